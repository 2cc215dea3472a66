"""The `convergenze` command: every subcommand documented, and search/match/stats on a real index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convergenze.cli.app import app

README = Path(__file__).resolve().parents[1] / "README.md"
runner = CliRunner()


def commands() -> list[str]:
    return sorted(c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands)


def test_every_command_is_in_the_readme_and_has_help() -> None:
    readme = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"`convergenze ([a-z-]+)", readme))
    assert set(commands()) <= documented, f"undocumented commands: {set(commands()) - documented}"
    for name in commands():
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.slow
def test_search_match_and_stats_print_json(ingested_env: dict) -> None:
    found = runner.invoke(app, ["search", "servizi digitali per i comuni", "--json", "-n", "3"])
    assert found.exit_code == 0, found.output
    body = json.loads(found.stdout)
    assert body["count"] == 3 and all({"id", "type", "title", "score", "snippet"} <= set(h) for h in body["data"])

    matched = runner.invoke(app, ["match", "Migrare in cloud i servizi dell'anagrafe comunale", "--json"])
    assert matched.exit_code == 0, matched.output
    hits = json.loads(matched.stdout)["data"]
    assert hits and {h["type"] for h in hits} <= {"measure", "call"}
    assert hits[0]["id"] == "pnrr-measure:M1C1I1.02.00"

    stats = runner.invoke(app, ["stats", "--json"])
    figures = json.loads(stats.stdout)
    assert figures["documents"] == ingested_env["report"]["documents"]
    assert figures["by_type"]["measure"] == 6
    assert figures["last_ingestion"]["documents"] == figures["documents"]


@pytest.mark.slow
def test_plain_output_and_a_clear_error(ingested_env: dict) -> None:
    shown = runner.invoke(app, ["search", "cooperative di comunità", "-n", "2"])
    assert shown.exit_code == 0 and shown.stdout.startswith(" 1. [")
    # Each hit says its language: an Italian query reaches the English EU topic.
    crossed = runner.invoke(app, ["search", "proteggere l'euro dalla contraffazione di banconote", "-n", "3"])
    line = next(row for row in crossed.stdout.splitlines() if "PERI-2026-ANTI-COUNTERFEIT" in row)
    assert "[call, en]" in line
    empty = runner.invoke(app, ["search", "   "])
    assert empty.exit_code == 2 and "The query is empty" in empty.output


@pytest.mark.slow
def test_match_with_a_profile_overlaps_actors_and_map(ingested_env: dict, tmp_path: Path) -> None:
    description = tmp_path / "progetto.txt"
    description.write_text("Migrare in cloud i servizi dell'anagrafe comunale e formare il personale.", "utf-8")
    matched = runner.invoke(app, ["match", "--file", str(description), "--region", "Lazio",
                                  "--actor-type", "public_administration", "--json", "-n", "3"])
    assert matched.exit_code == 0, matched.output
    body = json.loads(matched.stdout)
    assert body["source"] == "txt" and body["profile"]["region"] == "Lazio"
    assert all(len(h["eligibility"]) == 4 for h in body["data"])
    plain = runner.invoke(app, ["match", "Migrare in cloud i servizi dell'anagrafe comunale", "-n", "2"])
    assert plain.exit_code == 0 and "status" in plain.stdout

    found = runner.invoke(app, ["overlaps", "Contributi ai comuni per la migrazione al cloud", "--json"])
    assert found.exit_code == 0, found.output
    assert set(json.loads(found.stdout)) >= {"overlaps", "complements", "partners"}

    listed = runner.invoke(app, ["actors", "--mission", "M1", "--json", "-n", "3"])
    assert listed.exit_code == 0 and json.loads(listed.stdout)["data"]

    table = runner.invoke(app, ["map", "--framework", "pnrr"])
    assert table.exit_code == 0 and table.stdout.startswith("mission,label,territory,actor_type")


@pytest.mark.slow
def test_convergence_commands_refuse_bad_input_in_plain_words(ingested_env: dict) -> None:
    both = runner.invoke(app, ["match"])
    assert both.exit_code == 2 and "either a text or --file" in both.output
    region = runner.invoke(app, ["match", "progetto", "--region", "Atlantide"])
    assert region.exit_code == 2 and "Unknown region" in region.output
    budget = runner.invoke(app, ["match", "progetto", "--needed-by", "2020-01-01"])
    assert budget.exit_code == 2 and "in the past" in budget.output


@pytest.mark.slow
def test_server_option_answers_what_the_local_index_answers(ingested_env: dict, base_url: str) -> None:
    """``--server`` asks the running API; the output is the same as the local command's, and a wrong address
    is a plain error, not a traceback."""
    query = ["search", "servizi digitali per i comuni", "--json", "-n", "5", "--mode", "sparse"]
    local = runner.invoke(app, query)
    remote = runner.invoke(app, [*query, "--server", base_url])
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == json.loads(local.stdout)

    matched = runner.invoke(app, ["match", "Migrare in cloud i servizi dell'anagrafe comunale", "--json",
                                  "--server", base_url])
    assert matched.exit_code == 0, matched.output
    assert json.loads(matched.stdout)["data"]

    refused = runner.invoke(app, ["search", "cloud", "--server", "http://127.0.0.1:9"])
    assert refused.exit_code == 1 and "cannot reach the API" in refused.output
    both = runner.invoke(app, ["match", "testo", "--file", str(README), "--server", base_url])
    assert both.exit_code == 2 and "either a text or --file" in both.output
