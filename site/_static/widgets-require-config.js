// The ipywidgets HTML manager (embed-amd.js) finds its icon fonts next to the URL RequireJS gives each of its
// modules; by default that is relative to the page, where no font is. Map every module to the folder the
// manager and its fonts are served from, so every page (at any depth) loads them from _static/html-manager/.
(function () {
  var manager = document.currentScript.src.replace(/[^/]*(\?.*)?$/, "") + "html-manager/";
  var names = ["base", "base7", "controls", "controls7", "html-manager", "html-manager/dist/libembed-amd"];
  var paths = {};
  names.forEach(function (name) { paths["@jupyter-widgets/" + name] = manager + name.replace(/\//g, "-"); });
  require.config({ paths: paths });
})();
