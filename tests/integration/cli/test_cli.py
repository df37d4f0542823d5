"""The command line as a newcomer uses it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from datamill.cli import main
from tests.fixtures.servers import Server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DATAMILL_DATA_DIR": str(tmp_path / "data")}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin, env=env)
    return result.exit_code, result.output


def test_user_create_reads_the_password_from_stdin_and_lists_users(env: dict[str, str]) -> None:
    code, out = run(
        env, "user", "create", "carol", "--admin", "--password-stdin", stdin="pw-12345678\n"
    )
    assert code == 0, out
    code, out = run(env, "user", "list")
    assert "carol" in out
    assert "admin" in out


def test_user_create_refuses_a_short_password_in_one_line(env: dict[str, str]) -> None:
    code, out = run(env, "user", "create", "dave", "--password-stdin", stdin="short\n")
    assert code == 1
    assert out.strip() == "error: The password is too short: at least 8 characters."


def test_user_create_refuses_a_duplicate(env: dict[str, str]) -> None:
    run(env, "user", "create", "erin", "--password-stdin", stdin="pw-12345678\n")
    code, out = run(env, "user", "create", "erin", "--password-stdin", stdin="pw-12345678\n")
    assert code == 1
    assert "already exists" in out


def test_set_password_for_an_unknown_user_is_one_line(env: dict[str, str]) -> None:
    code, out = run(env, "user", "set-password", "ghost", "--password-stdin", stdin="pw-12345678\n")
    assert code == 1
    assert out.strip() == "error: There is no user named 'ghost'."


def test_demo_creates_the_account_and_datasets_once(env: dict[str, str]) -> None:
    code, out = run(env, "demo")
    assert code == 0, out
    assert "password" in out
    assert out.count("demo dataset created") == 3
    code, out = run(env, "demo")
    assert "already exists" in out
    assert "demo dataset created" not in out


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``datamill serve`` on a free port, with the CLI tests' environment."""
    served = Server("cli", {**env, "PATH": "/usr/bin:/bin"}, tmp_path)
    try:
        served.wait_healthy()
        yield served.url
    finally:
        served.stop()
        sys.stdout.write(served.output())


def test_dataset_upload_sends_the_file_to_the_server(
    env: dict[str, str], server: str, tmp_path: Path
) -> None:
    run(env, "user", "create", "frank", "--password-stdin", stdin="pw-12345678\n")
    code, token = run(env, "token", "create", "frank")
    assert code == 0
    data = tmp_path / "prices.csv"
    data.write_text("item,price\npen,1.5\nink,3\n")
    with_token = {**env, "DATAMILL_TOKEN": token.strip()}
    code, out = run(with_token, "dataset", "upload", str(data), "--url", server)
    assert code == 0, out
    assert "uploaded 'prices': 2 rows, 2 columns" in out


def test_dataset_upload_with_a_bad_token_says_so_in_one_line(
    env: dict[str, str], server: str, tmp_path: Path
) -> None:
    data = tmp_path / "a.csv"
    data.write_text("a\n1\n")
    bad = {**env, "DATAMILL_TOKEN": "dm_bad"}
    code, out = run(bad, "dataset", "upload", str(data), "--url", server)
    assert code == 1
    assert out.strip() == "error: The API token is not valid (unknown or revoked)."


def test_dataset_upload_without_a_token_says_how_to_get_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "a.csv"
    data.write_text("a\n1\n")
    code, out = run(env, "dataset", "upload", str(data))
    assert code == 1
    assert "DATAMILL_TOKEN" in out
    assert "datamill token create" in out


@pytest.fixture
def demo_env(env: dict[str, str]) -> dict[str, str]:
    """The demo installed, and a token of the demo account."""
    code, out = run(env, "demo")
    assert code == 0, out
    code, token = run(env, "token", "create", "demo")
    assert code == 0, token
    return {**env, "DATAMILL_TOKEN": token.strip()}


def test_run_waits_for_the_demo_pipeline_and_its_artifact_can_be_downloaded(
    demo_env: dict[str, str], server: str, tmp_path: Path
) -> None:
    code, out = run(
        demo_env,
        "run",
        "coffee-report",
        "--input",
        "sales=dataset:Coffee shop sales",
        "--param",
        "top=2",
        "--url",
        server,
    )

    assert code == 0, out
    assert "succeeded" in out
    assert "output duplicates_removed: 12" in out
    run_id = out.split("run ", 1)[1].split(":", 1)[0].strip()
    code, listed = run(demo_env, "runs", "--url", server)
    assert code == 0 and run_id in listed
    target = tmp_path / "best.csv"
    code, saved = run(
        demo_env, "runs", "download", run_id, "export.csv", "-o", str(target), "--url", server
    )
    assert code == 0, saved
    header, *rows = target.read_text().splitlines()
    assert header == "product,count"
    assert len(rows) == 2


def test_run_refused_by_the_pipeline_names_every_problem_in_one_line(
    demo_env: dict[str, str], server: str
) -> None:
    code, out = run(demo_env, "run", "coffee-report", "--param", "top=0", "--url", server)

    assert code == 1
    assert out.count("\n") == 1
    assert out.startswith("error: The run cannot start: params.top: 0 is less than the minimum")
    assert "inputs.sales" in out


def test_dataset_op_waits_for_the_revision_and_history_undo_follow(
    demo_env: dict[str, str], server: str
) -> None:
    sales = "Coffee shop sales"
    code, out = run(
        demo_env, "dataset", "op", sales, "drop-duplicates", "--param", 'columns=["order_id"]',
        "--url", server,
    )  # fmt: skip

    assert code == 0, out
    assert out.strip().splitlines()[-1].startswith("drop-duplicates: revision 2: ")
    code, out = run(demo_env, "dataset", "history", sales, "--url", server)
    assert code == 0 and "drop-duplicates" in out and "(upload)" in out
    code, out = run(demo_env, "dataset", "undo", sales, "--url", server)
    assert (code, out.startswith("head: revision 1 (")) == (0, True)
    code, out = run(demo_env, "dataset", "undo", sales, "--url", server)
    assert (code, out) == (
        1,
        "error: There is nothing to undo: the head is the uploaded revision.\n",
    )


def test_a_recipe_printed_from_one_dataset_replays_on_another(
    demo_env: dict[str, str], server: str, tmp_path: Path
) -> None:
    sales = "Coffee shop sales"
    run(demo_env, "dataset", "op", sales, "change-case", "--param", 'columns=["payment"]',
        "--param", "case=upper", "--url", server)  # fmt: skip
    code, printed = run(demo_env, "dataset", "recipe", sales, "--url", server)
    assert code == 0 and '"op": "change-case"' in printed
    recipe = tmp_path / "recipe.json"
    recipe.write_text(printed)
    copy = tmp_path / "copy.csv"
    copy.write_text("payment\ncard\ncash\n")
    code, out = run(demo_env, "dataset", "upload", str(copy), "--url", server)
    assert code == 0, out
    code, out = run(demo_env, "dataset", "replay", "copy", str(recipe), "--url", server)
    assert code == 0, out
    assert out.splitlines()[-1].startswith("recipe: revision 2: 2 rows, 1 columns")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, out = run(demo_env, "dataset", "replay", "copy", str(broken), "--url", server)
    assert code == 1 and out.startswith("error: the recipe is not JSON: ")


def test_dataset_op_with_a_bad_parameter_or_failing_data_is_one_line(
    demo_env: dict[str, str], server: str
) -> None:
    sales = "Coffee shop sales"
    code, out = run(demo_env, "dataset", "op", sales, "round", "--param", "column=city",
                    "--url", server)  # fmt: skip
    assert code == 1
    assert out == (
        "error: The parameters of round are not valid: body.params.column: column 'city' is text; "
        "expected int or float.\n"
    )
    code, out = run(
        demo_env, "dataset", "op", sales, "change-type", "--param", "column=unit_price",
        "--param", "to=float", "--param", "strict=true", "--url", server,
    )  # fmt: skip
    assert code == 1
    assert out.splitlines()[-1].startswith("error: the operation failed: ")
    assert "cannot be read as float" in out
    code, out = run(demo_env, "operations", "--url", server)
    assert code == 0 and "fill-statistic" in out


def test_runs_show_of_an_unknown_run_is_one_line(demo_env: dict[str, str], server: str) -> None:
    code, out = run(demo_env, "runs", "show", "not-a-run", "--url", server)

    assert code == 1
    assert out == "error: There is no run 'not-a-run' that you can see.\n"


def test_worker_without_celery_settings_says_what_is_missing(env: dict[str, str]) -> None:
    code, out = run(env, "worker")

    assert code == 1
    assert out == "error: datamill worker needs DATAMILL_EXECUTOR=celery and DATAMILL_BROKER_URL\n"
