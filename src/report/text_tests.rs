//! Unit tests of the report's naming: checkers' task and vertex ids become the scenario's
//! names.

use super::text::with_task_names;

#[test]
fn task_and_vertex_ids_are_named_as_the_scenario_names_them() {
    let names: Vec<String> =
        ["source[0]", "source[1]", "window[0]", "sink[0]", "sink[1]"].iter().map(|name| name.to_string()).collect();
    let text = "task#4 wrote the result of window 3 for key 1 of vertex#1 from task#1; vertex#2 and task#12";
    assert_eq!(
        with_task_names(text, &names),
        "sink[1] wrote the result of window 3 for key 1 of `window` from source[1]; `sink` and task#12"
    );
}
