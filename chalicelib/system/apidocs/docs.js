// Renders the OpenAPI document with Swagger UI 5.17.14 (vendored beside this file: works offline).
// Kept out of the page itself so the page needs no inline script (strict CSP).
const root = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: root.dataset.spec,
  domNode: root,
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  persistAuthorization: false,
  tryItOutEnabled: false,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
