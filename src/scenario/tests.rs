//! Scenario unit tests: parsing, defaults, and each validation rule naming its field.
