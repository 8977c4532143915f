"""A broken chargers.json or tags.json never takes working chargers offline, nor lets everyone in
(issue #11, item 11); shocpp-listener --check says what is wrong."""

import base64

from shocpp import backend, chargers_file, config, exits
from shocpp.tags_file import TagsFile
from shocpp.tools import listener

KEY = "00112233445566778899aabbccddeeff00112233"


def env_for(identity, key):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{identity}:{key}".encode()).decode()}


def test_a_broken_chargers_file_authenticates_with_its_last_good_copy(site):
    cfg = config.from_env(site.env)
    chargers_file.save(cfg.chargers_file, {"CP1": chargers_file.new_hash(KEY)})
    assert backend.authentication_problem(cfg, "CP1", env_for("CP1", KEY)) is None  # keeps the copy
    cfg.chargers_file.write_text('[{"id": "CP1", "password_hash": ')  # a typo
    assert backend.authentication_problem(cfg, "CP1", env_for("CP1", KEY)) is None
    assert backend.authentication_problem(cfg, "CP1", env_for("CP1", "0" * 40)) == "wrong password"
    assert backend.authentication_problem(cfg, "CP9", env_for("CP9", KEY)) == \
        "charger 'CP9' is not listed in the chargers file"
    from shocpp.last_good import LastGood, problems
    (problem,) = problems(cfg.run_dir)
    assert "not valid JSON" in problem and "authenticating with the last good copy" in problem
    LastGood(cfg.run_dir, "chargers.json").copy.unlink()
    refused = backend.authentication_problem(cfg, "CP1", env_for("CP1", KEY))
    assert "not valid JSON" in refused and "no last good copy" in refused


def test_a_fixed_tags_file_clears_the_problem(site):
    from shocpp.last_good import LastGood, problems
    cfg = config.from_env(site.env)
    good = site.tags_file.read_text()
    TagsFile(cfg.tags_file, LastGood(cfg.run_dir, "tags.json"))
    site.tags_file.write_text("nonsense")
    tags = TagsFile(cfg.tags_file, LastGood(cfg.run_dir, "tags.json"))
    assert tags.tags.lookup("1111").name == "home" and "serving with the last good copy" in tags.problem
    assert len(problems(cfg.run_dir)) == 1
    site.tags_file.write_text(good)
    assert TagsFile(cfg.tags_file, LastGood(cfg.run_dir, "tags.json")).problem is None
    assert problems(cfg.run_dir) == []


def test_check_names_every_problem_and_passes_a_good_configuration(site, capsys):
    assert listener.main(["--check"], site.env) == exits.OK
    assert capsys.readouterr().out.endswith("shocpp-listener: the configuration is good\n")
    site.tags_file.write_text("[")
    (site.root / "chargers.json").write_text('[{"id": "a:b", "password_hash": "x"}]')
    env = {**site.env, "SHOCPP_HEARTBEAT_INTERVAL": "soon", "SHOCPP_TLS_CERT": str(site.tags_file),
           "SHOCPP_TLS_KEY": str(site.tags_file)}
    assert listener.main(["--check"], env) == exits.USAGE
    out = capsys.readouterr().out
    assert "broken  setting SHOCPP_HEARTBEAT_INTERVAL='soon': SHOCPP_HEARTBEAT_INTERVAL='soon' is not a whole number" in out
    assert "broken  tags.json: " in out and "there is no last good copy" in out
    assert "broken  chargers.json: " in out and "has a ':'" in out
    assert "broken  TLS SHOCPP_TLS_CERT, SHOCPP_TLS_KEY: " in out and "not a PEM certificate" in out
    assert out.endswith("shocpp-listener: 4 problems; fix them before (re)starting\n")
