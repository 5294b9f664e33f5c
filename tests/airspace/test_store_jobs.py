"""The store's jobs table: conditional state changes and failing a dead runner's jobs."""

from __future__ import annotations

from pathlib import Path

from airgrid.airspace.store.service import open_store


def test_job_states_change_only_from_the_state_they_leave(tmp_path: Path):
    with open_store(tmp_path) as st:
        job = st.add_job("j1", "audit", "reg", {"logs": ["a.csv"]}, "h:1:1")
        assert (job.state, job.progress, job.parameters) == ("queued", 0.0, {"logs": ["a.csv"]})
        assert not st.job_progress("j1", 0.5, "early")  # not running yet
        assert st.start_job("j1") and not st.start_job("j1")
        assert st.job_progress("j1", 1.5, "auditing")
        assert (st.job("j1").progress, st.job("j1").step) == (1.0, "auditing")  # clamped
        assert st.finish_job("j1", result={"violations": 2}, result_dir="/r")
        assert not st.finish_job("j1", error="late")  # an ended job stays as it ended
        done = st.job("j1")
        assert (done.state, done.result, done.error, done.result_dir) == (
            "succeeded", {"violations": 2}, "", "/r"
        )  # fmt: skip
        assert done.started_at <= done.finished_at
        assert st.job("nope") is None


def test_fail_jobs_of_a_runner(tmp_path: Path):
    with open_store(tmp_path) as st:
        for i, runner in enumerate(["dead", "dead", "alive", "dead"]):
            st.add_job(f"j{i}", "audit", "reg", {}, runner)
        st.start_job("j0")
        st.start_job("j3")
        st.finish_job("j3", result={})
        assert sorted(st.unfinished_runners()) == ["alive", "dead"]
        assert sorted(st.fail_jobs_of("dead", "server restarted")) == ["j0", "j1"]
        assert st.job("j0").error == "server restarted (it was running)"
        assert st.job("j1").error == "server restarted (it was queued)"
        assert st.job("j2").state == "queued" and st.job("j3").state == "succeeded"
        assert st.unfinished_runners() == ["alive"]
        assert not st.start_job("j1")  # a failed job is never taken up again
        assert [j.id for j in st.list_jobs(kind="audit", limit=2)] == ["j3", "j2"]
        assert st.list_jobs(kind="audit", owner="other") == []
