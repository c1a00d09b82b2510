//! `[randomize]`: parsing, validation (one error naming the field), the draw (seeded,
//! in range, stable), and the section's absence from the run file's binary encoding.

use super::file::RestartStrategyName;
use super::{RandomizeSection, Scenario, draw_config};
use crate::kernel::rng::Seed;
use crate::protocol::ProtocolKind;

const WORDCOUNT: &str = include_str!("../../sims/wordcount.toml");
const WORDCOUNT_RANDOM: &str = include_str!("../../sims/wordcount-random.toml");

fn with_randomize(section: &str) -> Scenario {
    Scenario::from_toml(&format!("{WORDCOUNT}\n[randomize]\n{section}\n")).expect("parses")
}

/// The field and message of the scenario's validation error.
fn error_of(scenario: &Scenario) -> (String, String) {
    let error = scenario.compile().expect_err("invalid");
    (error.field.expect("names a field"), error.message)
}

#[test]
fn the_shipped_section_parses_into_every_setting() {
    let scenario = Scenario::from_toml(WORDCOUNT_RANDOM).expect("parses");
    let section = scenario.randomize.expect("has [randomize]");
    assert_eq!(section.protocols.as_ref().map(Vec::len), Some(5));
    assert_eq!(section.interval_ms, Some([5, 100]));
    assert_eq!(section.buffer_capacity, Some([2, 32]));
    assert_eq!(
        section.restart_strategies,
        Some(vec![RestartStrategyName::FixedDelay, RestartStrategyName::ExponentialDelay])
    );
}

#[test]
fn the_section_round_trips_through_toml() {
    let scenario = Scenario::from_toml(WORDCOUNT_RANDOM).expect("parses");
    let text = toml::to_string(&scenario).expect("serialises");
    assert_eq!(Scenario::from_toml(&text).expect("parses again"), scenario);
}

#[test]
fn the_section_takes_no_bytes_in_the_binary_encoding() {
    let plain = Scenario::from_toml(WORDCOUNT).expect("parses");
    let randomized = Scenario { randomize: Some(RandomizeSection::defaults(false)), ..plain.clone() };
    let encode =
        |scenario: &Scenario| bincode::serde::encode_to_vec(scenario, bincode::config::standard()).expect("encodes");
    assert_eq!(encode(&randomized), encode(&plain), "a run file's scenario never holds [randomize]");
    let (decoded, _): (Scenario, usize) =
        bincode::serde::decode_from_slice(&encode(&randomized), bincode::config::standard()).expect("decodes");
    assert_eq!(decoded, plain);
}

#[test]
fn a_low_bound_above_the_high_bound_names_the_field() {
    let (field, message) = error_of(&with_randomize("interval_ms = [50, 10]"));
    assert_eq!(field, "randomize.interval_ms");
    assert!(message.contains("[50, 10]") && message.contains("exceeds"), "{message}");
}

#[test]
fn a_zero_low_bound_where_zero_is_invalid_names_the_field() {
    assert_eq!(error_of(&with_randomize("buffer_capacity = [0, 4]")).0, "randomize.buffer_capacity");
    assert_eq!(error_of(&with_randomize("timeout_ms = [0, 4]")).0, "randomize.timeout_ms");
    assert_eq!(error_of(&with_randomize("max_concurrent = [0, 2]")).0, "randomize.max_concurrent");
    with_randomize("min_pause_ms = [0, 4]").compile().expect("a pause of 0 is valid");
}

#[test]
fn an_unknown_protocol_names_the_field() {
    let text = format!("{WORDCOUNT}\n[randomize]\nprotocols = [\"aligned\", \"two-phase\"]\n");
    let error = Scenario::from_toml(&text).expect_err("unknown protocol");
    let field = error.field.expect("names a field");
    assert!(field.starts_with("randomize.protocols"), "{field}");
    assert!(error.message.contains("two-phase"), "{}", error.message);
}

#[test]
fn empty_choices_and_unknown_settings_are_refused() {
    assert_eq!(error_of(&with_randomize("protocols = []")).0, "randomize.protocols");
    assert_eq!(error_of(&with_randomize("restart_strategies = []")).0, "randomize.restart_strategies");
    let text = format!("{WORDCOUNT}\n[randomize]\nintervals = [1, 2]\n");
    assert!(Scenario::from_toml(&text).expect_err("unknown field").message.contains("intervals"));
}

#[test]
fn a_strategy_the_recovery_section_cannot_run_is_refused() {
    let mut scenario = with_randomize("restart_strategies = [\"fixed-delay\", \"exponential-delay\"]");
    scenario.recovery.restart_delay_ms = 1_000;
    scenario.recovery.max_backoff_ms = 10;
    let (field, message) = error_of(&scenario);
    assert_eq!(field, "randomize.restart_strategies[1]");
    assert!(message.contains("max_backoff_ms"), "{message}");
}

#[test]
fn a_bank_may_draw_only_chandy_lamport() {
    let bank = Scenario::from_toml(include_str!("../../sims/bank.toml")).expect("parses");
    let section = RandomizeSection {
        protocols: Some(vec![ProtocolKind::ChandyLamport, ProtocolKind::Aligned]),
        ..RandomizeSection::default()
    };
    let (field, _) = error_of(&Scenario { randomize: Some(section), ..bank.clone() });
    assert_eq!(field, "randomize.protocols[1]");
    let defaults = Scenario { randomize: Some(RandomizeSection::defaults(true)), ..bank };
    defaults.compile().expect("the bank's defaults are valid");
}

#[test]
fn every_drawn_value_lies_in_its_range_and_seeds_differ() {
    let section = Scenario::from_toml(WORDCOUNT_RANDOM).expect("parses").randomize.expect("has it");
    let mut distinct = Vec::new();
    for seed in 0..300 {
        let drawn = draw_config(Seed(seed), &section, ProtocolKind::Aligned);
        assert_eq!(drawn, draw_config(Seed(seed), &section, ProtocolKind::Aligned), "same seed, same draw");
        let protocol = drawn.protocol.expect("drawn");
        assert!(section.protocols.as_ref().expect("listed").contains(&protocol));
        assert!((5..=100).contains(&drawn.interval_ms.expect("drawn")));
        assert!((50..=2_000).contains(&drawn.timeout_ms.expect("drawn")));
        assert!((1..=3).contains(&drawn.max_concurrent.expect("drawn")));
        assert!((0..=20).contains(&drawn.min_pause_ms.expect("drawn")));
        assert!((2..=32).contains(&drawn.buffer_capacity.expect("drawn")));
        assert_eq!(drawn.aligned_timeout_ms.is_some(), protocol == ProtocolKind::AlignedTimeout);
        assert!(drawn.aligned_timeout_ms.is_none_or(|value| value <= 10));
        if !distinct.contains(&drawn) {
            distinct.push(drawn);
        }
    }
    assert!(distinct.len() > 250, "only {} distinct configurations in 300 seeds", distinct.len());
    for bound in [1, 3] {
        let hits = (0..300)
            .filter(|&seed| draw_config(Seed(seed), &section, ProtocolKind::Aligned).max_concurrent == Some(bound))
            .count();
        assert!(hits > 50, "max_concurrent {bound} drawn only {hits} times: both ends of a range are reachable");
    }
}

#[test]
fn a_setting_left_out_does_not_shift_the_others() {
    let full = Scenario::from_toml(WORDCOUNT_RANDOM).expect("parses").randomize.expect("has it");
    let partial = RandomizeSection { protocols: None, interval_ms: None, ..full.clone() };
    for seed in 0..20 {
        let (a, b) = (
            draw_config(Seed(seed), &full, ProtocolKind::Aligned),
            draw_config(Seed(seed), &partial, ProtocolKind::Aligned),
        );
        assert_eq!((a.timeout_ms, a.buffer_capacity), (b.timeout_ms, b.buffer_capacity));
        assert_eq!(b.protocol, None);
    }
}

#[test]
fn the_draw_is_written_into_the_scenario_and_the_section_removed() {
    let scenario = Scenario::from_toml(WORDCOUNT_RANDOM).expect("parses");
    let (drawn_scenario, drawn) = scenario.with_drawn_config(Seed(7)).expect("valid");
    let drawn = drawn.expect("drawn");
    assert_eq!(drawn_scenario.randomize, None);
    assert_eq!(Some(drawn_scenario.checkpoint.protocol), drawn.protocol);
    assert_eq!(Some(drawn_scenario.checkpoint.interval_ms), drawn.interval_ms);
    assert_eq!(Some(drawn_scenario.network.buffer_capacity), drawn.buffer_capacity);
    assert_eq!(Some(drawn_scenario.recovery.strategy), drawn.restart_strategy);
    let (again, none) = drawn_scenario.with_drawn_config(Seed(8)).expect("valid");
    assert_eq!((again, none), (drawn_scenario, None), "a materialised scenario never draws again");
}

#[test]
fn the_description_names_each_drawn_setting() {
    let scenario = Scenario::from_toml(WORDCOUNT_RANDOM).expect("parses");
    let drawn = scenario.with_drawn_config(Seed(1)).expect("valid").1.expect("drawn");
    let text = drawn.to_string();
    let protocol = drawn.protocol.expect("drawn").name();
    assert!(text.starts_with(&format!("{protocol}, interval {} ms, ", drawn.interval_ms.expect("drawn"))), "{text}");
    assert!(text.contains(&format!("buffers {}", drawn.buffer_capacity.expect("drawn"))), "{text}");
    assert!(text.contains("restart "), "{text}");
}
