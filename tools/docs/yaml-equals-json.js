// Checks that the YAML rendering of the OpenAPI document parses to exactly the JSON
// rendering (make lint-openapi). Usage: node yaml-equals-json.js doc.json doc.yaml
const fs = require("fs");
const assert = require("assert");
const yaml = require("js-yaml");
const [jsonPath, yamlPath] = process.argv.slice(2);
const fromJSON = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
const fromYAML = yaml.load(fs.readFileSync(yamlPath, "utf8"), { schema: yaml.JSON_SCHEMA });
assert.deepStrictEqual(fromYAML, fromJSON);
console.log(`${yamlPath} and ${jsonPath} hold the same document`);
