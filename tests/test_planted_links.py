"""The bot never writes through anything it did not make. A symbolic link (to a decoy standing for
/etc/passwd), a FIFO, a folder or a hard link planted where the bot writes is refused with a French
message naming it, and left as it is; the decoy keeps its content. Tested (a) on the helper every
write goes through (bot.fsutil), with a scan of the source that no write bypasses it; (b) through
the real command line for the lock and the journal (fixed paths) and the folders the bot makes;
(c) during a run: links planted in the run folder as soon as it appears (the ENT export, the step's
screenshot and trace, the reports), and, with small steps written here, in the run folder by a
step itself (screenshot, trace, erreur-interne.log, copies of inputs, the journal)."""
from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.config import load_config
from bot.flow import Flow, Outcome, RunContext, Tracing
from bot.fsutil import (UnsafePath, check_dir, copy_file, make_dirs, new_dir, open_lock_file, place_file,
                        private_dir, read_own, safe_name, write_file)
from bot.runner import RunOptions, run_school
from bot.status import ExitStatus, Status
from conftest import DEMO, REPO, sim_state
from sim.seed import DEMO_SCHOOLS

DECOY = b"root:x:0:0:root:/root:/bin/bash\n"   # stands for /etc/passwd


def decoy(folder: Path, name: str = "passwd") -> Path:
    path = folder / name
    path.write_bytes(DECOY)
    return path


def intact(path: Path) -> None:
    assert stat.S_ISREG(os.lstat(path).st_mode) and path.read_bytes() == DECOY


def plant(path: Path, kind: str, target: Path) -> None:
    """A symbolic link to `target`, a FIFO, a folder or a hard link to `target` at `path`."""
    if kind == "symlink":
        path.symlink_to(target)
    elif kind == "dangling":
        path.symlink_to(target.parent / "not-yet-there")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "hardlink":
        os.link(target, path)
    else:
        raise AssertionError(kind)


def still_planted(path: Path, kind: str) -> None:
    mode = os.lstat(path).st_mode
    assert {"symlink": stat.S_ISLNK, "dangling": stat.S_ISLNK, "fifo": stat.S_ISFIFO, "dir": stat.S_ISDIR,
            "hardlink": stat.S_ISREG}[kind](mode)


# (a) The helper ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["symlink", "dangling", "fifo", "dir"])
def test_write_file_refuses_what_it_did_not_make_and_leaves_it(tmp_path, kind):
    target = decoy(tmp_path)
    path = tmp_path / "run" / "report.html"
    path.parent.mkdir()
    plant(path, kind, target)
    with pytest.raises(UnsafePath) as refused:
        write_file(path, "<html>")
    still_planted(path, kind)
    intact(target)
    assert not (tmp_path / "not-yet-there").exists()
    assert str(path) in refused.value.message and "n'a pas créé" in refused.value.message
    assert {"symlink": "lien symbolique", "dangling": "lien symbolique", "fifo": "FIFO",
            "dir": "un dossier"}[kind] in refused.value.message
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]   # no temporary file left
    with pytest.raises(UnsafePath):
        write_file(path, "suite", append=True)
    intact(target)


def test_write_file_replaces_a_name_never_writes_into_another_file(tmp_path):
    target = decoy(tmp_path)
    path = tmp_path / "shot.png"
    plant(path, "hardlink", target)   # a regular file of ours with another name: its name is replaced
    write_file(path, b"PNG")
    intact(target)
    assert path.read_bytes() == b"PNG" and os.stat(path).st_nlink == 1


def test_write_file_writes_replaces_and_appends_its_own_files(tmp_path):
    path = tmp_path / "erreur-interne.log"
    write_file(path, "un\n")
    write_file(path, "deux\n", append=True)
    assert path.read_text() == "un\ndeux\n"
    write_file(path, "trois\n")
    assert path.read_text() == "trois\n"
    secret = write_file(tmp_path / "identifiants.csv", "login;mdp\n", private=True)
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_folder_the_bot_writes_in_must_be_its_own_not_a_link(tmp_path, kind):
    decoy_dir = tmp_path / "etc"
    decoy_dir.mkdir()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    plant(run_dir / "entrees", kind, decoy_dir)
    with pytest.raises(UnsafePath, match="lien symbolique" if kind == "symlink" else "FIFO"):
        write_file(run_dir / "entrees" / "sts.xml", "x")
    with pytest.raises(UnsafePath):
        check_dir(run_dir / "entrees", create=True)
    with pytest.raises(UnsafePath):
        make_dirs(run_dir, "entrees", "more")
    assert list(decoy_dir.iterdir()) == []
    with pytest.raises(UnsafePath, match="lien symbolique|FIFO"):
        new_dir(run_dir / "entrees")   # the run folder itself: made now, or refused


def test_the_configured_root_may_be_a_link_nothing_below_it(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "recordings").symlink_to(real)   # an administrator's choice: followed
    made = make_dirs(tmp_path / "recordings", "123")
    assert (real / "123").is_dir() and made == tmp_path / "recordings" / "123"
    run = new_dir(made / "20261207-231500-000000")
    write_file(run / "report.json", "{}")
    assert (real / "123" / "20261207-231500-000000" / "report.json").read_text() == "{}"


def test_copies_and_moves_refuse_planted_targets(tmp_path):
    target = decoy(tmp_path)
    source = tmp_path / "sts.xml"
    source.write_text("<xml/>")
    (tmp_path / "entrees").mkdir()
    plant(tmp_path / "entrees" / "sts.xml", "symlink", target)
    with pytest.raises(UnsafePath):
        copy_file(source, tmp_path / "entrees" / "sts.xml")
    intact(target)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OSError, match="FIFO"):   # a FIFO as the source: refused, never blocks
        copy_file(tmp_path / "fifo", tmp_path / "entrees" / "fifo.xml")
    assert copy_file(source, tmp_path / "entrees" / "copy.xml").read_text() == "<xml/>"
    staging = private_dir(".navigateur-", near=tmp_path)
    assert stat.S_IMODE(os.stat(staging).st_mode) == 0o700 and staging.parent == tmp_path
    (staging / "trace.zip").write_bytes(b"PK")
    plant(tmp_path / "01-step.trace.zip", "symlink", target)
    with pytest.raises(UnsafePath):
        place_file(staging / "trace.zip", tmp_path / "01-step.trace.zip")
    intact(target)
    assert place_file(staging / "trace.zip", tmp_path / "02-step.trace.zip").read_bytes() == b"PK"


@pytest.mark.parametrize("kind", ["symlink", "dangling", "fifo", "dir", "hardlink"])
def test_the_lock_file_is_opened_only_when_it_is_the_bots_own(tmp_path, kind):
    target = decoy(tmp_path)
    path = tmp_path / "locks" / "123.lock"
    path.parent.mkdir()
    plant(path, kind, target)
    with pytest.raises(UnsafePath):
        open_lock_file(path)
    still_planted(path, kind)
    intact(target)


def test_a_lock_left_behind_is_opened_without_being_emptied(tmp_path):
    path = tmp_path / "locks" / "123.lock"
    path.parent.mkdir()
    path.write_text('{"pid": 999999}')
    handle = open_lock_file(path)
    try:
        assert os.read(handle, 100) == b'{"pid": 999999}'
    finally:
        os.close(handle)


def test_read_own_never_follows_a_link_nor_blocks(tmp_path):
    target = decoy(tmp_path)
    (tmp_path / "link").symlink_to(target)
    os.mkfifo(tmp_path / "fifo")
    for name in ("link", "fifo"):
        with pytest.raises(UnsafePath):
            read_own(tmp_path / name)


def test_names_given_by_a_site_stay_plain_names():
    assert safe_name("../../etc/passwd", "x.csv") == "passwd"
    assert safe_name("..", "x.csv") == "x.csv" and safe_name("", "x.csv") == "x.csv"
    assert safe_name("a\\b\x00c.csv", "x.csv") == "bc.csv"
    assert safe_name("extraction_comptes_0341234G.csv", "x.csv") == "extraction_comptes_0341234G.csv"


# Every write of bot/ and flows/ goes through bot.fsutil: a new one that does not is caught here.
DIRECT_WRITE = re.compile(r"\.write_text\(|\.write_bytes\(|shutil\.copy|copyfile\(|\.save_as\(|stop_chunk\(path="
                          r"|screenshot\(path=|NamedTemporaryFile|mkstemp\(|mkdtemp\(|symlink_to\(|\.touch\("
                          r"|record_video_dir|downloads_path|open\([^)]*[\"'][rbt]*[wax+]")
ALLOWED = {
    # Playwright writes these in the session's private folder (mkdtemp, 0700), moved by fsutil.
    ("bot/browser.py", "download.save_as(staged)"),
    ("bot/browser.py", "self.context.tracing.stop_chunk(path=str(staged))"),
    ("bot/browser.py", 'extra = {"record_video_dir": str(self._private / "video")}'),
    ("bot/browser.py", '"downloads_path": str(self._private / "telechargements")'),
    # The headed browser's throw-away profile: a fresh private folder.
    ("bot/browser.py", 'self._profile_dir = Path(tempfile.mkdtemp(prefix="sacoche-bot-profile-"))'),
    # Playwright's registry in the user's own cache, pointing it at Debian's ffmpeg.
    ("bot/browser.py", "link.symlink_to(system_ffmpeg)"),
    ("bot/browser.py", "(ours / entry.name).symlink_to(entry)"),
    # The pre-flight probe of a configured folder: tempfile makes it with O_EXCL|O_NOFOLLOW.
    ("bot/runner.py", 'with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-") as probe:'),
}


def test_no_write_bypasses_the_helper():
    found = set()
    for path in sorted([*(REPO / "bot").rglob("*.py"), *(REPO / "flows").rglob("*.py")]):
        relative = path.relative_to(REPO).as_posix()
        if relative == "bot/fsutil.py":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if DIRECT_WRITE.search(line) and not line.lstrip().startswith("#"):
                allowed = [snippet for file, snippet in ALLOWED if file == relative and snippet in line]
                found.add((relative, allowed[0] if allowed else line.strip()))
    assert found - ALLOWED == set(), "write these through bot.fsutil"


# (b) The command line: lock, journal, the folders the bot makes -------------------------------------------
AUTH_MODE = ("full-onboarding", "--school", "123", "--only", "sacoche-auth-mode", "--json")


def planted_at(school, where: str) -> Path:
    state, recordings = school.tmp_path / "state", school.tmp_path / "recordings"
    return {"lock": state / "locks" / "123.lock", "journal": state / "journal" / "123.json",
            "locks-dir": state / "locks", "journal-dir": state / "journal",
            "school-recordings": recordings / "123"}[where]


@pytest.mark.parametrize("where, kind", [
    ("lock", "symlink"), ("lock", "dangling"), ("lock", "fifo"), ("lock", "hardlink"),
    ("journal", "symlink"), ("journal", "fifo"), ("journal", "dir"),
    ("locks-dir", "symlink"), ("journal-dir", "symlink"), ("school-recordings", "symlink"),
], ids=lambda value: value)
def test_a_planted_lock_journal_or_folder_is_refused_before_any_click(school, sims, tmp_path, where, kind):
    target = decoy(tmp_path)
    decoy_dir = tmp_path / "etc"
    decoy_dir.mkdir()
    path = planted_at(school, where)
    path.parent.mkdir(parents=True, exist_ok=True)
    plant(path, kind, decoy_dir if where.endswith(("-dir", "recordings")) else target)
    started = time.monotonic()
    result = school(*AUTH_MODE)
    assert result.code == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert time.monotonic() - started < 60   # a FIFO never blocks
    assert "Traceback" not in result.stderr
    message = json.loads(result.stdout)["message"]
    assert "refusé" in message and str(path) in message and "n'a pas créé" in message
    assert ("lien symbolique" if kind in ("symlink", "dangling") else "FIFO" if kind == "fifo" else
            "un dossier" if kind == "dir" else "lien physique") in message
    still_planted(path, kind)
    intact(target)
    assert list(decoy_dir.iterdir()) == []
    assert not (decoy_dir.parent / "not-yet-there").exists()
    # Refused before any click: SACoche untouched, no run folder left.
    assert sim_state(sims)["schools"]["123"]["params"]["connexion_mode"] == "normal"
    recordings = school.tmp_path / "recordings" / "123"
    assert where == "school-recordings" or not recordings.exists() or not list(recordings.iterdir())


# (c) During a run: links planted in the run folder as soon as it appears -------------------------------------
class Planter:
    """Watches recordings/<school>/ for the run folder and plants, at once, each name of `names`
    (a symbolic link to its own decoy, or a FIFO)."""

    def __init__(self, school_dir: Path, names: list[str], kind: str, decoys: Path):
        self.school_dir, self.names, self.kind, self.decoys = school_dir, names, kind, decoys
        decoys.mkdir()
        self.targets = {name: decoy(decoys, name) for name in names}
        self.run_dir: Path | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            runs = [p for p in self.school_dir.iterdir() if p.is_dir()] if self.school_dir.is_dir() else []
            if runs:
                self.run_dir = runs[0]
                for name in self.names:
                    plant(self.run_dir / name, self.kind, self.targets[name])
                return
            self._stop.wait(0.002)

    def __enter__(self) -> "Planter":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_links_planted_in_the_run_folder_are_refused_and_the_step_fails_cleanly(school, sims, tmp_path, kind):
    export = f"extraction_comptes_{DEMO.uai}.csv"
    names = [export, "01-ent-accounts-export-echec.png", "01-ent-accounts-export.trace.zip", "report.json",
             "report.html"]
    with Planter(school.tmp_path / "recordings" / "123", names, kind, tmp_path / "decoys") as planter:
        result = school("run", "ent-accounts-export", "--school", "123", "--json")
    assert planter.run_dir is not None
    assert result.code == 3, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "Erreur interne" not in result.stdout
    for name in names:
        intact(planter.targets[name])
        still_planted(planter.run_dir / name, kind)
    step = result.report["flows"][0]
    assert step["status"] == "failed"
    summary = step["details"]["summary"]
    assert str(planter.run_dir / export) in summary and "n'a pas créé" in summary
    assert ("lien symbolique" if kind == "symlink" else "FIFO") in summary
    assert step["screenshot"] is None and "capture refusée" in step["screenshot_missing"]
    assert "trace" not in step["details"]
    for report in ("report.json", "report.html"):
        assert f"refus d'écrire le rapport {report} : « {planter.run_dir / report} »" in result.stderr
    # Nothing Playwright wrote is left behind in the run folder (its private folders are removed),
    # but the download refused its place: the only copy, kept aside and named.
    left = [p for p in planter.run_dir.iterdir() if p.name.startswith(".")]
    assert [p.name.split("-")[0] for p in left] == [".telechargement"], left
    assert (left[0] / "fichier").is_file() and "gardé dans" in summary


# (c) During a run: small steps that plant in their own run folder (deterministic) -------------------------------
def in_thread(function, *args):
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture
def config(sims, tmp_path, monkeypatch):
    school = DEMO_SCHOOLS[0]
    monkeypatch.setenv("SACOCHE_123_PASSWORD", school.sacoche_admin_password)
    return load_config(REPO / "config.example.yaml", overrides={
        "sites": {"sacoche": {"url": sims.sacoche_url}, "ent": {"url": sims.ent_url}},
        "paths": {"state_dir": str(tmp_path / "state"), "recordings_dir": str(tmp_path / "recordings")},
        "schools": {"123": {"name": school.name, "uai": school.uai, "department": school.department,
                            "accounts": {"sacoche": {"login": school.sacoche_admin_login,
                                                     "password_env": "SACOCHE_123_PASSWORD"}}}}})


class PlantingStep(Flow):
    """Opens SACoche's page, plants `kind` at each of `names` (relative to the run folder, or
    absolute), then succeeds or raises `error`."""
    title = "Étape de test"

    def __init__(self, name: str, names: list, kind: str, decoys: Path, error: BaseException | None = None,
                 inputs: dict | None = None):
        self.name, self.names, self.kind, self.error, self._inputs = name, names, kind, error, inputs or {}
        decoys.mkdir(exist_ok=True)
        self.targets = {str(name): decoy(decoys, Path(name).name) for name in names}

    def run(self, ctx: RunContext) -> Outcome:
        ctx.page.goto(ctx.site_url("sacoche"))
        for name in self.names:
            path = ctx.run_dir / name
            if path.exists() or path.is_symlink():
                path.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            plant(path, self.kind, self.targets[str(name)])
        if self.error is not None:
            raise self.error
        return Outcome(Status.UNCHANGED, "Rien à faire.")

    def verify(self, ctx: RunContext, outcome: Outcome) -> dict:
        return {}

    def inputs(self, ctx: RunContext) -> dict:
        return self._inputs


def test_a_planted_screenshot_fails_a_step_that_went_well(config, tmp_path):
    step = PlantingStep("plante-capture", ["01-plante-capture.png"], "symlink", tmp_path / "decoys")
    run = in_thread(run_school, config, "123", [step], RunOptions(quiet=True))
    intact(step.targets["01-plante-capture.png"])
    result = run.flows[0]
    assert result.status == Status.FAILED and run.exit_code == ExitStatus.FLOW_FAILED
    assert "refus d'écrire la capture d'écran" in result.summary and "lien symbolique" in result.summary
    assert result.screenshot is None and "capture refusée" in result.screenshot_missing
    assert (Path(run.run_dir) / "report.json").is_file()


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_planted_internal_error_log_is_not_written_through(config, tmp_path, kind):
    step = PlantingStep("plante-log", ["erreur-interne.log"], kind, tmp_path / "decoys", error=KeyError("oubli"))
    run = in_thread(run_school, config, "123", [step], RunOptions(quiet=True))
    intact(step.targets["erreur-interne.log"])
    still_planted(Path(run.run_dir) / "erreur-interne.log", kind)
    summary = run.flows[0].summary
    assert "Erreur interne du bot (KeyError)" in summary and "détails techniques non écrits" in summary


def test_a_planted_trace_is_refused_and_the_step_fails(config, tmp_path):
    step = PlantingStep("plante-trace", ["01-plante-trace.trace.zip"], "symlink", tmp_path / "decoys")
    run = in_thread(run_school, config, "123", [step], RunOptions(quiet=True, tracing=Tracing.ON))
    intact(step.targets["01-plante-trace.trace.zip"])
    result = run.flows[0]
    assert result.status == Status.FAILED and "refus d'écrire la trace de l'étape" in result.summary
    assert "trace" not in result.details
    assert not [p for p in Path(run.run_dir).iterdir() if p.name.startswith(".")]


def test_a_journal_replaced_by_a_link_mid_run_is_not_written_through(config, tmp_path):
    journal = Path(config.paths.state_dir) / "journal" / "123.json"
    step = PlantingStep("plante-journal", [journal], "symlink", tmp_path / "decoys")
    run = in_thread(run_school, config, "123", [step], RunOptions(quiet=True))
    intact(step.targets[str(journal)])
    assert journal.is_symlink()
    result = run.flows[0]
    assert result.status == Status.FAILED and "refus d'écrire le journal de l'école" in result.summary
    assert any(failure.startswith("le journal de l'école : ") for failure in run.write_failures)


def test_a_planted_copy_of_an_input_fails_the_step_that_reads_it(config, tmp_path):
    made = tmp_path / "made-by-step-1.xml"   # what a step gives the next one (ARENA's exports)

    class MakesAFile(PlantingStep):
        def run(self, ctx):
            made.write_text("<xml/>")
            return super().run(ctx)

    first = MakesAFile("fabrique", [f"entrees/{made.name}"], "symlink", tmp_path / "decoys")
    second = PlantingStep("lit", [], "symlink", tmp_path / "decoys2", inputs={"file": made})
    run = in_thread(run_school, config, "123", [first, second], RunOptions(quiet=True))
    intact(first.targets[f"entrees/{made.name}"])
    assert [f.status for f in run.flows] == [Status.UNCHANGED, Status.FAILED]
    assert run.flows[1].summary.startswith("Copie des fichiers d'entrée refusée : ")


# The flows' own writes -------------------------------------------------------------------------------------
def test_a_download_is_never_saved_through_a_planted_link(page, tmp_path):
    from bot.browser import download_by_clicking
    target = decoy(tmp_path)
    folder = tmp_path / "run"
    folder.mkdir()
    names = ["identifiants_123_eleves.csv", "../../autre.csv"]

    def serve(route):
        name = names[int(route.request.url.rsplit("=", 1)[1])]
        route.fulfill(status=200, body="login;mot de passe\n", headers={
            "Content-Type": "text/csv", "Content-Disposition": f'attachment; filename="{name}"'})
    page.route("**/force_download.php*", serve)
    page.set_content("".join(f'<a id="f{n}" href="http://sacoche.test/force_download.php?f={n}">CSV</a>'
                             for n in range(2)))
    plant(folder / "identifiants_123_eleves.csv", "symlink", target)
    with pytest.raises(UnsafePath, match="lien symbolique") as refused:
        download_by_clicking(page.locator("#f0"), folder, "identifiants.csv")
    intact(target)
    # What the site gave is the only copy (SACoche shows a logins file once): kept aside, and said.
    kept = refused.value.kept
    assert kept is not None and kept.read_text() == "login;mot de passe\n" and str(kept) in refused.value.message
    assert kept.parent.parent == folder and stat.S_IMODE(os.stat(kept.parent).st_mode) == 0o700
    # A name with a path: one plain name in the folder, whatever the browser made of it.
    saved = download_by_clicking(page.locator("#f1"), folder, "identifiants.csv")
    assert saved.parent == folder and saved.read_text() == "login;mot de passe\n"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600          # it holds passwords
    assert sorted(p.name for p in folder.iterdir()) == sorted(["identifiants_123_eleves.csv", saved.name,
                                                               kept.parent.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd", "run"]


def test_screenshots_are_never_written_through_a_planted_link(page, tmp_path):
    from bot.browser import ScreenshotMissing, take_screenshot
    target = decoy(tmp_path)
    page.set_content("<p>page</p>")
    for kind in ("symlink", "fifo"):
        path = tmp_path / f"01-step-{kind}.png"
        plant(path, kind, target)
        with pytest.raises(ScreenshotMissing) as missing:
            take_screenshot(page, path, whole_page=kind == "fifo", timeout_ms=15000)
        assert missing.value.unsafe is not None and missing.value.reason.startswith("capture refusée")
        still_planted(path, kind)
        intact(target)


def test_the_identifier_report_copies_are_never_written_through_a_planted_link(tmp_path):
    from flows.sacoche.ent_ids import write_prediction
    from flows.sacoche.ent_matching import Prediction
    target = decoy(tmp_path)
    path = tmp_path / "identifiants_ent_prevision.json"
    plant(path, "symlink", target)
    with pytest.raises(UnsafePath):
        write_prediction(path, Prediction([]))
    intact(target)


def test_the_terminal_never_points_to_a_report_that_is_a_planted_link(tmp_path):
    from bot.report import to_text
    from bot.results import RunReport
    decoy = tmp_path / "decoy"
    decoy.write_text("leurre", encoding="utf-8")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("report.html", "report.json"):
        (run_dir / name).symlink_to(decoy)
    text = to_text(RunReport(school="123", run_dir=run_dir, title="École"))
    assert "Rapport : aucun n'a pu être écrit" in text and "report.html" not in text
    (run_dir / "report.json").unlink()
    (run_dir / "report.json").write_text("{}", encoding="utf-8")
    assert f"Rapport : {run_dir / 'report.json'}" in to_text(RunReport(school="123", run_dir=run_dir, title="École"))
    assert decoy.read_text(encoding="utf-8") == "leurre"
