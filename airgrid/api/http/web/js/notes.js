// The panel's notes (one line per message) and the voxel information table.

const MAX_NOTES = 12;

/**
 * Add a line to the notes.
 * @param {string} text
 * @param {"info"|"ok"|"error"|"quiet"} [kind]
 */
export function note(text, kind = "info") {
  const box = document.getElementById("notes");
  const div = document.createElement("div");
  div.className = kind;
  div.textContent = text;
  box.prepend(div);
  while (box.children.length > MAX_NOTES) box.lastChild.remove();
}

/** Show rows [label, value] in the info box under a title. */
export function showInfo(title, rows) {
  const box = document.getElementById("info");
  box.replaceChildren();
  const h = document.createElement("h2");
  h.textContent = title;
  box.append(h);
  const table = document.createElement("table");
  for (const [label, value] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = label;
    tr.insertCell().textContent = value;
  }
  box.append(table);
}
