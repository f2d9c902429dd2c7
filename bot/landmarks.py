"""Landmarks: the elements a page object relies on, checked all at once before acting on its
page. A missing one means the site changed (another release, a reworded menu): the flow stops at
once, naming the page and the element, instead of waiting out a timeout and being retried as if
the site were slow. The engine knows no site: page objects declare their landmarks."""
from __future__ import annotations

import json
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from .errors import FlowFailed
from .text import de

# How long a page may take to show its first landmark (content a script brings after the load).
# A bound on a wait for a state, not a pause: a page that has it goes on at once.
ARRIVAL_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Landmark:
    """One element: a CSS selector (`css`), a role with its accessible name (`role`, `name`;
    "button|link" for either), a form field by its label (`label`), or a script expression
    that must be true in the page (`script`, e.g. the AJAX endpoint the page posts to).
    `what` names it for a person; `hint` says how to follow a change (a config key)."""
    what: str
    css: str | None = None
    role: str | None = None
    name: str | None = None
    label: str | None = None
    script: str | None = None
    hint: str | None = None

    def locator(self, page: Page) -> Locator | None:
        if self.css is not None:
            return page.locator(self.css)
        if self.label is not None:
            return page.get_by_label(self.label, exact=True)
        if self.role is not None:
            found = None
            for role_name in self.role.split("|"):
                # Hidden until used (a fieldset the page opens) still counts as there.
                locator = page.get_by_role(role_name, name=self.name, exact=True, include_hidden=True)  # type: ignore[arg-type]
                found = locator if found is None else found.or_(locator)
            return found
        return None

    def present(self, page: Page) -> bool:
        """For roles and labels (selectors and scripts are read in one go by read_landmarks)."""
        try:
            locator = self.locator(page)
            return locator is not None and locator.count() > 0
        except PlaywrightError:
            return False


def css(selector: str, what: str | None = None) -> Landmark:
    return Landmark(what or f"élément {selector}", css=selector)


ROLE_WORDS = {"button": "bouton", "link": "lien", "button|link": "bouton", "checkbox": "case à cocher",
              "heading": "titre", "rowheader": "ligne", "combobox": "liste", "textbox": "champ"}


def role(kind: str, name: str, hint: str | None = None) -> Landmark:
    return Landmark(f"{ROLE_WORDS.get(kind, kind)} « {name} »", role=kind, name=name, hint=hint)


def field_labelled(label: str, hint: str | None = None) -> Landmark:
    return Landmark(f"champ « {label} »", label=label, hint=hint)


def from_label_pack(labels: dict, key: str, kind: str, config_key: str, **values) -> Landmark:
    """A landmark named by a label pack's word (`key` "section.name", its `{…}` filled from
    `values`): a field by its label (`kind` "label") or a role; its hint is the config key that
    overrides the word (`config_key` + "." + `key`)."""
    section, name = key.split(".")
    text = labels[section][name].format(**values) if values else labels[section][name]
    hint = f"{config_key}.{key}"
    return field_labelled(text, hint) if kind == "label" else role(kind, text, hint)


@dataclass(frozen=True)
class PageLandmarks:
    """What one page must show: `site` and `page` name it for a person (in French)."""
    site: str
    page: str
    landmarks: tuple[Landmark, ...]


@dataclass
class LandmarkReading:
    site: str
    page: str
    landmark: Landmark
    present: bool


class SiteChanged(FlowFailed):
    """A page lacks an element the bot relies on: the site changed. Never transient (running
    the flow again would find the same page)."""

    def __init__(self, site: str, page: str, missing: list[str], version: str | None = None,
                 hints: list[str] | None = None):
        seen = f" (version vue : {version})" if version else ""
        noun = "élément introuvable" if len(missing) == 1 else "éléments introuvables"
        super().__init__(f"La page « {page} » {de(site)} a changé : {noun} : {', '.join(missing)}{seen}. Le robot "
                         "n'a rien fait sur cette page.", transient=False)
        self.site, self.page, self.missing, self.version = site, page, list(missing), version
        self.hints = list(hints or [])

    @classmethod
    def lacking(cls, site: str, page: str, missing, version: str | None = None) -> "SiteChanged":
        """The page lacks these landmarks: named, with the hints they carry."""
        return cls(site, page, [landmark.what for landmark in missing], version,
                   [landmark.hint for landmark in missing if landmark.hint])

    def as_dict(self) -> dict:
        return {"site": self.site, "page": self.page, "missing": self.missing, "version": self.version,
                **({"hints": self.hints} if self.hints else {})}

    @property
    def advice(self) -> str:
        follow = (f" Si seul un libellé a changé, adaptez-le dans la configuration : {' ; '.join(self.hints)}."
                  if self.hints else "")
        return ("Le site n'a plus la page que le robot connaît (nouvelle version, menu renommé) : relancer ne "
                f"changera rien.{follow} Sinon, transmettez à l'équipe du robot le nom de la page, l'élément "
                "manquant, la version vue et la capture de la page (dossier de l'exécution).")


def read_landmarks(page: Page, expected: PageLandmarks, wait_first: bool = True) -> list[LandmarkReading]:
    """Each landmark, present or not, read at once (after the first one had its time to come)."""
    if wait_first and expected.landmarks:
        first = expected.landmarks[0].locator(page)
        if first is not None:
            try:
                first.first.wait_for(state="attached", timeout=ARRIVAL_TIMEOUT_MS)
            except PlaywrightError:
                pass   # reported below as missing, with the others
    # Selectors and scripts in one round trip; roles and labels need Playwright's own engine.
    batched = [landmark for landmark in expected.landmarks if landmark.css is not None or landmark.script is not None]
    found = []
    if batched:   # a page of roles and labels only needs no such round trip
        try:
            found = page.evaluate(BATCH_PRESENCE, [[landmark.css, landmark.script] for landmark in batched])
        except PlaywrightError:
            found = [False] * len(batched)
    present = {id(landmark): bool(flag) for landmark, flag in zip(batched, found)}
    return [LandmarkReading(expected.site, expected.page, landmark,
                            present[id(landmark)] if id(landmark) in present else landmark.present(page))
            for landmark in expected.landmarks]


BATCH_PRESENCE = """pairs => pairs.map(([css, script]) => {
  try { return css !== null ? document.querySelector(css) !== null : !!(0, eval)(script); }
  catch (e) { return false; } })"""


# Pages fetched by the page on screen (its cookies, its browser), all at once, and read without
# being shown: parsed by the browser's HTML parser; selectors looked for in each; script
# landmarks evaluated in a blank sandboxed frame where the page's own inline scripts ran first
# (its external scripts are not loaded, nothing is requested, the frame cannot navigate the
# page); EXTRACT, a function of the parsed page, read from each. One JSON string comes back:
# Playwright would otherwise check a large answer field by field.
FETCHED_PAGES = """async ([pages, probes, timeoutMs]) => {
  const extract = EXTRACT;
  const docs = await Promise.all(pages.map(async ({url, form}) => {
    const signal = AbortSignal.timeout(timeoutMs);   // a server that never answers ends the wait
    const answer = await fetch(url, form === null ? {credentials: 'same-origin', signal}
      : {method: 'POST', body: new URLSearchParams(form), credentials: 'same-origin', signal});
    return {status: answer.status, doc: new DOMParser().parseFromString(await answer.text(), 'text/html')};
  }));
  return JSON.stringify(docs.map(({status, doc}, index) => {
    const found = css => { try { return doc.querySelector(css) !== null; } catch (e) { return false; } };
    const marks = pages[index].marks;
    let present = marks.map(([css, script]) => css !== null ? found(css) : null);
    if (marks.some(([css, script]) => script !== null)) {
      const frame = document.createElement('iframe');
      frame.setAttribute('sandbox', 'allow-scripts allow-same-origin');
      frame.style.display = 'none';
      document.documentElement.appendChild(frame);
      try {
        for (const script of doc.querySelectorAll('script:not([src])')) {
          if (!script.type || /javascript/i.test(script.type)) {
            try { frame.contentWindow.eval(script.textContent); } catch (e) { /* a library it lacks */ }
          }
        }
        present = present.map((seen, i) => seen !== null ? seen :
          (() => { try { return !!frame.contentWindow.eval(marks[i][1]); } catch (e) { return false; } })());
      } finally { frame.remove(); }
    }
    return {status, present, probes: probes.map(found), extracted: extract(doc)};
  }));
}"""


@dataclass(frozen=True)
class PageToFetch:
    """A page to read without showing it: its address, its landmarks, and the form to post
    there (its fields), if it is the answer to a form."""
    url: str
    expected: PageLandmarks
    form: dict | None = None


@dataclass
class FetchedPage:
    """One page read by read_fetched_pages: its HTTP status, its landmarks, whether each probe
    selector (what tells a lost session, say) was found in it, and what `extract` read there."""
    url: str
    status: int
    readings: list[LandmarkReading]
    probes: dict[str, bool]
    extracted: object = None


def read_fetched_pages(page: Page, wanted, probes=(), extract: str = "doc => null",
                       timeout_ms: int = 30000) -> list[FetchedPage]:
    """Each PageToFetch of `wanted`, asked for by the page on screen, all at once, and read
    without being shown (see FETCHED_PAGES): for pages whose landmarks are selectors and
    scripts, this reads them at the cost of the requests alone. `extract`: a JavaScript function
    of the parsed page, whose JSON result each FetchedPage carries. A page not come within
    `timeout_ms` raises Playwright's Error (as a navigation would). Roles and labels need a page
    on screen (Playwright's own engine): such landmarks are refused here."""
    for request in wanted:
        if any(mark.css is None and mark.script is None for mark in request.expected.landmarks):
            raise ValueError(f"{request.expected.page}: a role or label landmark needs the page on screen")
    answers = json.loads(page.evaluate(FETCHED_PAGES.replace("EXTRACT", extract), [
        [{"url": request.url, "form": request.form,
          "marks": [[mark.css, mark.script] for mark in request.expected.landmarks]} for request in wanted],
        list(probes), timeout_ms]))
    return [FetchedPage(request.url, answer["status"],
                        [LandmarkReading(request.expected.site, request.expected.page, mark, bool(flag))
                         for mark, flag in zip(request.expected.landmarks, answer["present"])],
                        dict(zip(probes, answer["probes"])), answer["extracted"])
            for request, answer in zip(wanted, answers)]


def require_landmarks(page: Page, expected: PageLandmarks, version: str | None = None) -> None:
    """Raise SiteChanged naming every missing landmark of the page."""
    missing = [reading.landmark for reading in read_landmarks(page, expected) if not reading.present]
    if missing:
        raise SiteChanged.lacking(expected.site, expected.page, missing, version)


def read_in_turn(page: Page, visits) -> list[LandmarkReading]:
    """check-site: for each (go, expected) in turn, go to the page then read its landmarks;
    stops after a page that lacks one (the next pages are reached through it)."""
    readings: list[LandmarkReading] = []
    for go, expected in visits:
        go()
        found = read_landmarks(page, expected)
        readings += found
        if any(not reading.present for reading in found):
            break
    return readings
