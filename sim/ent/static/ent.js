// Small behaviours of the ENT pages: reveal the link editor, tick every structure row, say why an
// unconfigured tile goes nowhere. Loaded synchronously in <head> and delegated from `document`,
// so a click that comes as soon as the element shows is never lost to a not-yet-attached handler.
document.addEventListener("change", (event) => {
  const all = event.target;
  if (all.id === "tout") {
    document.querySelectorAll("input.ligne").forEach((box) => { box.checked = all.checked; });
  }
});
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  if (target.closest("#modifier")) {
    document.getElementById("edition").hidden = false;
    document.getElementById("valeur").focus();
    return;
  }
  const tile = target.closest("a.non-configure");
  if (tile) {
    event.preventDefault();
    const message = document.getElementById("message_tuile");
    message.textContent = tile.dataset.message;
    message.hidden = false;
  }
});
