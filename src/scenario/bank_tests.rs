//! Bank scenarios: the `[bank]` section and `[[script]]` compiled, and every bad field named.

use super::Scenario;
use super::tests::{Case, Edit, check_error};
use crate::dataflow::graph::{Partitioning, VertexKind};
use crate::harness::bank::{ScriptedAction, payee_index, payee_of};
use crate::kernel::time::{SimDuration, SimTime};

const BANK: &str = r#"name = "bank"

[bank]
accounts = 3
opening_balance = 100
transfers_per_account = 50
amount_max = 9

[checkpoint]
protocol = "chandy-lamport"

[[script]]
at_ms = 2
kind = "transfer"
from = 0
to = 2
amount = 7
delay_ms = 4

[[script]]
at_ms = 1
kind = "snapshot"
account = 1
"#;

#[test]
fn a_bank_compiles_to_accounts_on_a_complete_graph() {
    let compiled = Scenario::from_toml(BANK).and_then(|scenario| scenario.compile()).expect("valid");
    let world = &compiled.world;
    assert_eq!(world.graph.vertices.len(), 1);
    assert_eq!((world.graph.vertices[0].kind, world.graph.vertices[0].parallelism), (VertexKind::Account, 3));
    assert_eq!(world.graph.edges[0].partitioning, Partitioning::Direct);
    let topology = world.graph.expand();
    assert_eq!(topology.channels.len(), 6, "every ordered pair of distinct accounts, none to itself");
    assert!(topology.channels.iter().all(|channel| channel.sender != channel.receiver));
    assert_eq!((world.workload.records_per_source_subtask, world.workload.key_count), (50, 2));
    assert_eq!(compiled.task_names, ["account[0]", "account[1]", "account[2]"]);
    let bank = world.bank.as_ref().expect("a bank");
    assert_eq!(bank.opening_balances, [100, 100, 100]);
    assert_eq!(
        bank.script[0].action,
        ScriptedAction::Transfer { from: 0, to: 2, amount: 7, latency: Some(SimDuration::from_millis(4)) }
    );
    assert_eq!(bank.script[1].action, ScriptedAction::Snapshot { account: 1 });
    assert_eq!(bank.script_end(), SimTime::ZERO.after(SimDuration::from_millis(2)));
    assert!(bank.scripts_transfers());
}

#[test]
fn payee_indexes_skip_the_payer() {
    for from in 0..4 {
        let payees: Vec<u32> = (0..3).map(|index| payee_of(from, index)).collect();
        assert!(!payees.contains(&from));
        for to in (0..4).filter(|&to| to != from) {
            assert_eq!(payee_of(from, payee_index(from, to)), to);
        }
    }
}

#[test]
fn a_bank_with_no_interval_has_only_scripted_snapshots() {
    let text = BANK.replace("protocol = \"chandy-lamport\"", "protocol = \"chandy-lamport\"\ninterval_ms = 0");
    let compiled = Scenario::from_toml(&text).and_then(|scenario| scenario.compile()).expect("valid");
    assert_eq!(compiled.world.checkpoint.interval, SimDuration::ZERO);
}

#[rustfmt::skip]
const BANK_CASES: &[Case] = &[
    ("a barrier protocol on the cycle", Edit::Replace("protocol = \"chandy-lamport\"", "protocol = \"aligned\""), Some("checkpoint.protocol"), "`aligned` cannot run on the bank's complete graph"),
    ("unaligned on the cycle", Edit::Replace("protocol = \"chandy-lamport\"", "protocol = \"unaligned\""), Some("checkpoint.protocol"), "use chandy-lamport"),
    ("one account", Edit::Replace("accounts = 3", "accounts = 1"), Some("bank.accounts"), "must lie in 2..=1000"),
    ("too many accounts", Edit::Replace("accounts = 3", "accounts = 5000"), Some("bank.accounts"), "must lie in 2..=1000"),
    ("a huge opening balance", Edit::Replace("opening_balance = 100", "opening_balance = 10000000000000"), Some("bank.opening_balance"), "too large"),
    ("no opening balance", Edit::Replace("opening_balance = 100\n", ""), Some("bank"), "needs opening_balance"),
    ("both opening balances", Edit::Replace("opening_balance = 100", "opening_balance = 100\nopening_balances = [1, 2, 3]"), Some("bank.opening_balances"), "not both"),
    ("too few opening balances", Edit::Replace("opening_balance = 100", "opening_balances = [1, 0]"), Some("bank.opening_balances"), "has 2 balances for 3 accounts"),
    ("a huge balance of one", Edit::Replace("opening_balance = 100", "opening_balances = [1, 10000000000000, 0]"), Some("bank.opening_balances[1]"), "too large"),
    ("too many transfers", Edit::Replace("transfers_per_account = 50", "transfers_per_account = 400000000"), Some("bank.transfers_per_account"), "at most"),
    ("a huge amount_max", Edit::Replace("amount_max = 9", "amount_max = 70000"), Some("bank.amount_max"), "at most 65535"),
    ("a bank with a workload", Edit::Append("[workload]\nrecords_per_source_subtask = 1\nkeys = 1"), Some("workload"), "remove [workload]"),
    ("a bank with vertices", Edit::Append("[[vertices]]\nname = \"x\"\nkind = \"sink\"\nparallelism = 1"), Some("vertices"), "remove vertices and edges"),
    ("a script time out of range", Edit::Replace("[[script]]\nat_ms = 1", "[[script]]\nat_ms = 1000000000000000"), Some("script[1].at_ms"), "too large"),
    ("an unknown bank field", Edit::Replace("amount_max = 9", "amount_maximum = 9"), Some("bank.amount_maximum"), "unknown field `amount_maximum`"),
    ("a transfer to itself", Edit::Replace("to = 2", "to = 0"), Some("script[0].to"), "cannot pay itself"),
    ("a transfer to no account", Edit::Replace("to = 2", "to = 3"), Some("script[0].to"), "must name an account in 0..3"),
    ("a transfer without an amount", Edit::Replace("amount = 7\n", ""), Some("script[0].amount"), "a transfer needs it"),
    ("a transfer without a payer", Edit::Replace("from = 0\n", ""), Some("script[0].from"), "needs it"),
    ("a transfer naming an initiator", Edit::Replace("delay_ms = 4", "delay_ms = 4\naccount = 1"), Some("script[0].account"), "does not apply"),
    ("a snapshot with an amount", Edit::Replace("account = 1", "account = 1\namount = 3"), Some("script[1].amount"), "does not apply"),
    ("a snapshot without an account", Edit::Replace("account = 1\n", ""), Some("script[1].account"), "needs it"),
    ("an unknown script kind", Edit::Replace("kind = \"snapshot\"", "kind = \"marker\""), Some("script[1].kind"), "unknown variant `marker`"),
    ("a fault on no account", Edit::Append("[[faults]]\nkind = \"crash-task\"\ntask = \"account[3]\"\nat_ms = 5"), Some("faults[0].task"), "`account` has 3 subtasks"),
];

#[test]
fn bank_errors_name_their_field() {
    let failures: Vec<String> = BANK_CASES
        .iter()
        .filter_map(|&(what, edit, field, message_part)| {
            check_error(&edit.apply(BANK), field, message_part)
                .err()
                .map(|problem| format!("{what}: wanted field {field:?} and a message with {message_part:?}; {problem}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}
