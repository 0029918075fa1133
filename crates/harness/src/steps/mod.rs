//! Step definitions, one file per domain concept. Each step is one line: it calls a method of
//! the world or a check of `checks`. Texts are French, as in the feature files.

mod checks;
mod imap;
mod messages;
mod operator;
mod sasl;
mod smtp;
