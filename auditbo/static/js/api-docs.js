// Starts Swagger UI on /api/docs from the locally served bundle (no CDN, no inline script).
(function () {
  var el = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: el.getAttribute("data-spec-url"), dom_id: "#swagger-ui", deepLinking: true });
})();
