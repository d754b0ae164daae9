/* Starts Swagger UI on /docs from the installed package's files (see onestop/web/docs.py). */
(function () {
  'use strict';
  var root = document.getElementById('swagger-ui');
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute('data-openapi'),
    dom_id: '#swagger-ui',
    deepLinking: true
  });
})();
