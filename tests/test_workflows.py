"""The GitHub workflows run what the README and the CI job promise."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_fuzz_workflow_runs_the_ci_job_and_keeps_what_it_found() -> None:
    text = (ROOT / ".github" / "workflows" / "fuzz.yml").read_text()
    assert "python -m fuzzer ci" in text
    assert "actions/cache" in text and ".fuzzer/examples" in text
    assert "upload-artifact" in text and "path: reports/" in text


def test_the_fuzz_workflow_publishes_the_database_laptops_read() -> None:
    from fuzzer.databases import ARTIFACT_NAME

    text = (ROOT / ".github" / "workflows" / "fuzz.yml").read_text()
    upload = text[text.index(f"name: {ARTIFACT_NAME}") :]
    assert "path: .fuzzer/examples" in upload
    assert "include-hidden-files: true" in upload  # .fuzzer is a dot-directory
    assert "pip install -c constraints.txt" in text  # the Hypothesis laptops pin too
    assert "hypothesis==" in (ROOT / "constraints.txt").read_text()


def test_the_test_workflow_runs_the_readme_test_command() -> None:
    workflow = (ROOT / ".github" / "workflows" / "test.yml").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "bash .ci/run" in workflow
    assert "python3 dev.py test" in ci and "python3 dev.py test" in readme.split("\n\n")[1]
