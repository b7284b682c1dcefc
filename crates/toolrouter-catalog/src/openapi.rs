//! OpenAPI 3.0/3.1 import: turns an OpenAPI document into a toolkit definition, reporting per operation what cannot be imported.
