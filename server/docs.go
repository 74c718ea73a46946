package server

import (
	"embed"
	"io/fs"
	"path"

	"github.com/gofiber/fiber/v2"
)

// webassets holds the docs page and the Swagger UI files it loads (server/webassets/README.md
// says where they come from).
//
//go:embed webassets/index.html webassets/docs.js webassets/swagger-ui
var webassets embed.FS

// docsAssets maps the names under /docs/assets/ to embedded files and media types.
var docsAssets = map[string]struct{ file, mime string }{
	"swagger-ui-bundle.js": {"webassets/swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
	"swagger-ui.css":       {"webassets/swagger-ui/swagger-ui.css", "text/css; charset=utf-8"},
	"docs.js":              {"webassets/docs.js", "text/javascript; charset=utf-8"},
}

// registerDocs adds the open documentation routes: the OpenAPI document as JSON and
// YAML, and the interactive docs page with its assets.
func (s *server) registerDocs(app *fiber.App) {
	app.Get(Base+"/openapi.json", func(c *fiber.Ctx) error {
		b, err := OpenAPIJSON()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(b)
	})
	app.Get(Base+"/openapi.yaml", func(c *fiber.Ctx) error {
		b, err := OpenAPIYAML()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, MIMEYAML+"; charset=utf-8")
		return c.Send(b)
	})
	app.Get("/docs", func(c *fiber.Ctx) error {
		return sendAsset(c, "webassets/index.html", fiber.MIMETextHTMLCharsetUTF8)
	})
	app.Get("/docs/assets/:name", func(c *fiber.Ctx) error {
		a, ok := docsAssets[path.Clean(c.Params("name"))]
		if !ok {
			return fiber.NewError(fiber.StatusNotFound, "no such docs asset")
		}
		return sendAsset(c, a.file, a.mime)
	})
}

func sendAsset(c *fiber.Ctx, file, mime string) error {
	b, err := fs.ReadFile(webassets, file)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, mime)
	// Nothing on the page may come from elsewhere: scripts, styles, images and fetches
	// stay on this server.
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	return c.Send(b)
}
