// Sliders drawn by the ipywidgets HTML manager have a visible label ("Model", "Min base score") beside them, but
// the handle a screen reader focuses (role="slider", made by noUiSlider inside ipywidgets) is not tied to it, so it
// is announced without a name (axe: aria-input-field-name). ipywidgets 8 offers no setting that reaches the handle,
// so on this site each handle is pointed at its widget's label with aria-labelledby once the manager has drawn it.
(function () {
  var count = 0;
  function nameHandles(root) {
    root.querySelectorAll(".widget-slider .noUi-handle[role='slider']:not([aria-labelledby])").forEach(function (handle) {
      var widget = handle.closest(".widget-slider");
      var label = widget && widget.querySelector(":scope > .widget-label");
      if (!label || !label.textContent.trim()) return;
      if (!label.id) label.id = "qwen-slider-label-" + (++count);
      handle.setAttribute("aria-labelledby", label.id);
    });
  }
  function start() {
    nameHandles(document);
    new MutationObserver(function () { nameHandles(document); })
      .observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
