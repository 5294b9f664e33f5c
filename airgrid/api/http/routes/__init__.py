"""One router per resource: grid, routes, geofences, intents, health."""
