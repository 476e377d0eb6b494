"""The one wrangler-config loader: what wrangler reads we read, found where wrangler finds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faultbook.cli.check_cmd import check_command
from faultbook.cloudflare import project
from faultbook.cloudflare.config import MAX_CONFIG_BYTES, find_config, load_config, worker_name
from faultbook.errors import InputError

CLEAN = 'name = "w"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n'


def _project(folder: Path, name: str = "wrangler.toml", text: str = CLEAN) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "index.js").write_text("export default {}\n")
    config = folder / name
    config.write_text(text, encoding="utf-8")
    return config


@pytest.mark.parametrize("name,text", [
    ("wrangler.toml", CLEAN),
    ("wrangler.jsonc", '{"name": "w", "main": "src/index.js", "compatibility_date": "2025-01-01",}'),
])
def test_a_utf8_bom_is_accepted_like_wrangler_does(tmp_path: Path, name: str, text: str) -> None:
    config = _project(tmp_path, name)
    config.write_bytes(b"\xef\xbb\xbf" + text.encode())
    out, err, code = check_command(str(tmp_path), offline=True)
    assert code == 0, out + err
    assert load_config(tmp_path).data["name"] == "w"


def test_a_quoted_toml_key_with_a_long_unicode_escape_does_not_crash(tmp_path: Path) -> None:
    _project(tmp_path, text=CLEAN + '[vars]\n"EMOJI_\\U0001F600" = "x"\n"TAB\\tKEY" = "y"\n')
    config = load_config(tmp_path)
    assert set(config.data["vars"]) == {"EMOJI_\U0001F600", "TAB\tKEY"}
    assert config.locate(("vars", "EMOJI_\U0001F600")).line == 5


def test_a_huge_config_is_refused_quickly_with_exit_2(tmp_path: Path) -> None:
    config = _project(tmp_path)
    with config.open("a") as handle:
        handle.write("# " + "x" * (MAX_CONFIG_BYTES + 10) + "\n")
    out, err, code = check_command(str(tmp_path), offline=True)
    assert code == 2 and "larger than 5 MB" in err and str(config) in err


def test_the_config_is_found_in_parent_folders_and_named(tmp_path: Path) -> None:
    _project(tmp_path)
    nested = tmp_path / "src" / "deep"
    nested.mkdir(parents=True)
    assert find_config(nested) == (tmp_path / "wrangler.toml").resolve()
    out, err, code = check_command(str(nested), offline=True)
    assert code == 0 and f"checked {(tmp_path / 'wrangler.toml').resolve()}" in err


def test_wranglers_lookup_order_json_then_jsonc_then_toml_each_up_the_tree(tmp_path: Path) -> None:
    _project(tmp_path, "wrangler.json", '{"name": "parent"}')
    _project(tmp_path / "app", "wrangler.toml")
    # wrangler searches every parent for wrangler.json before looking for wrangler.toml at all.
    assert find_config(tmp_path / "app") == (tmp_path / "wrangler.json").resolve()


def test_dash_c_names_the_file_to_check(tmp_path: Path) -> None:
    _project(tmp_path)
    other = _project(tmp_path, "wrangler.staging.toml", CLEAN.replace('"w"', '"Bad Name"'))
    out, err, code = check_command(str(tmp_path), offline=True, config_path=str(other))
    assert code == 1 and "FB201" in out and "wrangler.staging.toml" in out
    with pytest.raises(InputError):
        find_config(tmp_path, tmp_path / "missing.toml")


def test_check_and_rollback_read_the_same_way(tmp_path: Path) -> None:
    text = '{\n  // comment\n  "name": "api",\n  "env": {"staging": {}, "eu": {"name": "api-europe"}},\n}\n'
    _project(tmp_path, "wrangler.jsonc", text)
    wrangler = project.load_project_wrangler(tmp_path)
    assert wrangler.data == load_config(tmp_path).data
    assert [wrangler.worker_name(e) for e in (None, "staging", "eu")] == ["api", "api-staging", "api-europe"]
    assert worker_name({"name": "api"}, "staging") == "api-staging"


def test_json5_only_syntax_is_not_wrangler_jsonc(tmp_path: Path) -> None:
    """Rollback used json5, which accepts what wrangler refuses (single quotes, unquoted keys)."""
    _project(tmp_path, "wrangler.jsonc", "{name: 'api'}")
    with pytest.raises(InputError):
        project.load_project_wrangler(tmp_path)


def test_the_schema_used_is_named(tmp_path: Path) -> None:
    _project(tmp_path)
    _, err, _ = check_command(str(tmp_path), offline=True)
    assert "wrangler 4.86.0 schema shipped with faultbook" in err
    schema_dir = tmp_path / "node_modules" / "wrangler"
    schema_dir.mkdir(parents=True)
    (schema_dir / "config-schema.json").write_text(json.dumps({"type": "object"}))
    (schema_dir / "package.json").write_text(json.dumps({"version": "9.9.9"}))
    _, err, _ = check_command(str(tmp_path), offline=True)
    assert "project's wrangler 9.9.9 schema" in err


def test_a_build_redirect_is_followed_like_wrangler_deploy_does(tmp_path: Path) -> None:
    _project(tmp_path, "wrangler.jsonc", '{"name": "app", "assets": {"binding": "ASSETS"}}')
    built = _project(tmp_path / "dist" / "app", "wrangler.json", '{"name": "app"}')
    pointer = tmp_path / ".wrangler" / "deploy" / "config.json"
    pointer.parent.mkdir(parents=True)
    pointer.write_text('{"configPath": "../../dist/app/wrangler.json"}')
    assert find_config(tmp_path).resolve() == built.resolve()
    pointer.write_text('{"configPath": "../../missing.json"}')
    with pytest.raises(InputError, match="does not exist"):
        find_config(tmp_path)


def test_a_byte_that_is_not_utf8_is_read_as_wrangler_reads_it(tmp_path: Path) -> None:
    config = _project(tmp_path)
    config.write_bytes(CLEAN.encode() + b"# caf\xe9\n")
    out, err, code = check_command(str(tmp_path), offline=True)
    assert code == 0, out + err
    assert load_config(tmp_path).lossy
