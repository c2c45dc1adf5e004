//! List pages are complete: a page holds `limit` tickets whenever that many match
//! (else all that match), for every role, sort, order and filter, paged to the end
//! in exactly the order a reference sort of the matching tickets gives. And the
//! selective cases that used to come back near-empty (a tag on 5 tickets, an agent
//! owning 5 while the rest belong to other groups, a word on 3) are whole on the
//! first page.

use chrono::{Duration, TimeZone, Utc};
use desk_domain::listing::ListRequest;
use desk_domain::ticket::{Assignee, Customer, Ticket};
use desk_domain::{
    Caller, EmailAddress, GroupId, Order, Priority, Source, Status, Tags, TicketNumber, UserId,
};
use desk_dynamo::keys;
use desk_tests::Stack;
use serde_json::json;

fn pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn assignee(i: u64) -> Option<Assignee> {
    let user = |u: &str| Some(Assignee::User(UserId::parse(u).unwrap()));
    let group = |g: &str| Some(Assignee::Group(GroupId::parse(g).unwrap()));
    match i % 6 {
        0 => None,
        1 => user("alice"),
        2 => user("bob"),
        3 => group("support"),
        _ => group("billing"),
    }
}

const WORDS: [&str; 7] = [
    "printer", "invoice", "login", "vpn", "export", "refund", "laptop",
];

/// A ticket whose every sort key differs from its number's order.
fn ticket(i: u64, assignee: Option<Assignee>, tags: &[&str], extra_word: &str) -> Ticket {
    let base = Utc.timestamp_opt(1_760_000_000, 0).single().unwrap();
    let created = base + Duration::minutes(((i * 37) % 1009) as i64);
    Ticket {
        number: TicketNumber::new(TicketNumber::FIRST + i).unwrap(),
        name: format!("{} {extra_word} case {i}", WORDS[(i * 5 % 7) as usize]),
        description: format!("Reported {i}."),
        status: [
            Status::Open,
            Status::Processing,
            Status::Waiting,
            Status::Closed,
        ][(i % 4) as usize],
        priority: [
            Priority::Low,
            Priority::Medium,
            Priority::High,
            Priority::Urgent,
        ][(i % 7 % 4) as usize],
        assignee,
        tags: Tags::parse(tags).unwrap(),
        customer: Customer {
            name: format!("Customer {}", i % 5),
            email: EmailAddress::parse(&format!("c{}@example.com", i % 5)).unwrap(),
            phone: String::new(),
        },
        source: Source::Manual,
        created_at: created,
        updated_at: created + Duration::minutes(((i * 13) % 50) as i64),
        closed_at: None,
        version: 1,
        merged_into: None,
        merged: Vec::new(),
        participants: Vec::new(),
    }
}

/// Every page of `q` for `caller`, followed to the end.
async fn all_pages(s: &Stack, caller: &Caller, q: &str) -> Vec<Vec<Ticket>> {
    let mut req = ListRequest::parse(&pairs(q)).unwrap();
    let mut pages = Vec::new();
    loop {
        let page = s.desk.list_tickets(caller, &req).await.unwrap();
        pages.push(page.items);
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => return pages,
        }
        assert!(pages.len() < 200, "{q}: no end");
    }
}

/// The matching tickets in page order, by the domain's predicate and the sort keys.
fn reference(all: &[Ticket], caller: &Caller, q: &str) -> Vec<u64> {
    let req = ListRequest::parse(&pairs(q)).unwrap();
    let Some(query) = req.plan(caller).unwrap() else {
        return vec![];
    };
    let mut m: Vec<(String, u64)> = all
        .iter()
        .filter(|t| query.matches(t))
        .map(|t| (keys::sort_value(t, query.sort), t.number.get()))
        .collect();
    m.sort();
    if query.order == Order::Desc {
        m.reverse();
    }
    m.into_iter().map(|(_, n)| n).collect()
}

fn check_complete(pages: &[Vec<Ticket>], limit: usize, what: &str) {
    for (i, p) in pages.iter().enumerate() {
        if i + 1 < pages.len() {
            assert_eq!(p.len(), limit, "{what}: page {i} not full");
        }
    }
}

#[tokio::test]
async fn every_role_sort_and_filter_pages_completely_in_order() {
    let s = Stack::start().await;
    let all: Vec<Ticket> = (0..90)
        .map(|i| {
            let mut tags = vec![];
            if i % 11 == 0 {
                tags.push("rare");
            }
            if i % 3 == 0 {
                tags.push("common");
            }
            let word = if [17, 44, 71].contains(&i) {
                "zebra"
            } else {
                ""
            };
            ticket(i, assignee(i), &tags, word)
        })
        .collect();
    s.store.import_tickets(&all).await.unwrap();
    s.drain_stream().await;
    let sorts = [
        "sort=updated",
        "sort=created&order=asc",
        "sort=priority",
        "sort=status&order=asc",
        "sort=name&order=asc",
        "sort=customer",
        "sort=assignee&order=asc",
    ];
    let filters = [
        "",
        "status=open",
        "status=open,waiting&priority=high,urgent",
        "assignee=me",
        "assignee=unassigned",
        "assignee=group:support",
        "tag=rare",
        "tag=common&status=closed",
        "tag=rare&tag=common",
        "customer=c1@example.com",
        "q=zebra",
    ];
    let limit = 7;
    for user in ["admin", "alice", "bob"] {
        let caller = s.desk.caller(user).await.unwrap();
        for f in filters {
            // Every sort for the unfiltered view and for a partitioned filter, two for the rest.
            let which: Vec<&str> = if f.is_empty() || f == "tag=rare" || f.starts_with("customer") {
                sorts.to_vec()
            } else {
                vec![sorts[0], sorts[4]]
            };
            for sort in which {
                let q = format!("limit={limit}&{f}&{sort}");
                let pages = all_pages(&s, &caller, &q).await;
                check_complete(&pages, limit, &format!("{user} {q}"));
                let got: Vec<u64> = pages.iter().flatten().map(|t| t.number.get()).collect();
                assert_eq!(got, reference(&all, &caller, &q), "{user} {q}");
            }
        }
    }
}

#[tokio::test]
async fn selective_pages_are_whole_on_the_first_page() {
    let s = Stack::start().await;
    let billing = || Some(Assignee::Group(GroupId::parse("billing").unwrap()));
    let bob = || Some(Assignee::User(UserId::parse("bob").unwrap()));
    // 1,200 tickets belong to billing or bob; the interesting ones are the oldest,
    // so a window over the newest would miss them.
    let mut all: Vec<Ticket> = (0..1_200)
        .map(|i| {
            let mut t = ticket(
                i,
                if i % 2 == 0 { billing() } else { bob() },
                &["standard"],
                "",
            );
            t.created_at += Duration::days(30);
            t.updated_at += Duration::days(30);
            t
        })
        .collect();
    let alice = || Some(Assignee::User(UserId::parse("alice").unwrap()));
    let support = || Some(Assignee::Group(GroupId::parse("support").unwrap()));
    for i in 1_200..1_205 {
        all.push(ticket(i, alice(), &["standard"], ""));
    }
    for (k, i) in (1_205..1_210).enumerate() {
        let a = [support(), billing(), None, bob(), billing()][k].clone();
        all.push(ticket(i, a, &["needle"], ""));
    }
    for i in 1_210..1_213 {
        all.push(ticket(i, billing(), &[], "quokka"));
    }
    s.store.import_tickets(&all).await.unwrap();
    s.drain_stream().await;
    s.store
        .set_ticket_counter(TicketNumber::FIRST + all.len() as u64)
        .await
        .unwrap();

    let admin = s.desk.caller("admin").await.unwrap();
    let alice_c = s.desk.caller("alice").await.unwrap();
    let bob_c = s.desk.caller("bob").await.unwrap();
    let first = |caller: Caller, q: &'static str| {
        let s = &s;
        async move {
            let req = ListRequest::parse(&pairs(q)).unwrap();
            s.counter.take();
            let page = s.desk.list_tickets(&caller, &req).await.unwrap();
            let calls = s.counter.take();
            let mut n: Vec<u64> = page.items.iter().map(|t| t.number.get()).collect();
            n.sort();
            (n, page.next_cursor, calls)
        }
    };
    let range = |a: u64, b: u64| (a..b).map(|i| TicketNumber::FIRST + i).collect::<Vec<_>>();

    // An agent owning 5 while 1,200 belong to other groups: her default view holds
    // them all (with the unassigned and support ones), from her three partitions.
    let (n, cursor, calls) = first(alice_c.clone(), "limit=25").await;
    let mut expected = range(1_200, 1_205);
    expected.extend([TicketNumber::FIRST + 1_205, TicketNumber::FIRST + 1_207]);
    assert_eq!(n, expected);
    assert_eq!(cursor, None);
    assert_eq!(calls, ["Query", "Query", "Query", "BatchGetItem"]);
    for sort in [
        "created", "priority", "status", "name", "customer", "assignee",
    ] {
        let q: &'static str = Box::leak(format!("limit=25&sort={sort}").into_boxed_str());
        let (n, cursor, _) = first(alice_c.clone(), q).await;
        assert_eq!((n, cursor), (expected.clone(), None), "{q}");
    }

    // A tag on 5 of 1,215: all on the first page, from the tag's links only.
    let (n, cursor, calls) = first(admin.clone(), "limit=25&tag=needle").await;
    assert_eq!((n, cursor), (range(1_205, 1_210), None));
    assert_eq!(calls, ["Query", "BatchGetItem"]);
    let (n, _, _) = first(bob_c.clone(), "limit=25&tag=needle").await;
    assert_eq!(
        n,
        [1_206, 1_207, 1_208, 1_209]
            .map(|i| TicketNumber::FIRST + i)
            .to_vec()
    );

    // A word on 3 of 1,215.
    let (n, cursor, _) = first(admin.clone(), "limit=25&q=quokka").await;
    assert_eq!((n, cursor), (range(1_210, 1_213), None));
    let (n, _, _) = first(alice_c.clone(), "limit=25&q=quokka").await;
    assert!(n.is_empty(), "alice sees no billing ticket: {n:?}");

    // Edits keep the tag links in step: a ticket moved to support appears for
    // alice, leaves bob's page; a removed tag leaves the tag's page.
    let moved = TicketNumber::FIRST + 1_206;
    let r = s
        .patch(
            &format!("/tickets/{moved}"),
            "admin",
            json!({"version": 1, "assignee": {"type": "group", "id": "support"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (n, _, _) = first(alice_c.clone(), "limit=25&tag=needle").await;
    assert!(n.contains(&moved), "{n:?}");
    let (n, _, _) = first(bob_c.clone(), "limit=25&tag=needle").await;
    assert!(!n.contains(&moved), "{n:?}");
    let (n, _, _) = first(bob_c.clone(), "limit=25").await;
    assert!(!n.contains(&moved));
    let r = s
        .patch(
            &format!("/tickets/{moved}"),
            "admin",
            json!({"version": 2, "remove_tags": ["needle"], "add_tags": ["thread"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (n, _, _) = first(admin.clone(), "limit=25&tag=needle").await;
    assert!(!n.contains(&moved), "{n:?}");
    let (n, _, _) = first(alice_c.clone(), "limit=25&tag=thread").await;
    assert_eq!(n, vec![moved]);
}

#[tokio::test]
async fn search_folds_case_and_diacritics_stems_and_completes_the_last_word() {
    let s = Stack::start().await;
    let mine = s
        .ticket(Stack::ticket_body(
            "Crème brûlée machine jammed",
            json!({"description": "The Zürich printers stopped.",
                   "assignee": {"type": "group", "id": "support"}}),
        ))
        .await;
    let other = s
        .ticket(Stack::ticket_body(
            "Invoice printer",
            json!({"assignee": {"type": "group", "id": "billing"}}),
        ))
        .await;
    s.drain_stream().await;
    let found = |q: &'static str, user: &'static str| {
        let s = &s;
        async move {
            let r = s.get(&format!("/tickets?q={q}"), user).await;
            assert_eq!(r.status, 200, "{q}: {:?}", r.body);
            let mut n = desk_tests::numbers(&r);
            n.sort();
            n
        }
    };
    for q in [
        "creme",
        "BRULEE",
        "zurich",
        "Zürich",
        "jam",
        "bru",
        "creme%20machine",
        "zurich%20stop",
    ] {
        assert_eq!(found(q, "admin").await, vec![mine], "{q}");
    }
    // "printers" and "printer" share a stem; every word must match.
    assert_eq!(found("printers", "admin").await, vec![mine, other]);
    assert_eq!(found("printer%20invoice", "admin").await, vec![other]);
    assert_eq!(
        found("rulee", "admin").await,
        Vec::<u64>::new(),
        "a prefix starts a word"
    );
    assert_eq!(
        found("bru%20creme", "admin").await,
        Vec::<u64>::new(),
        "only the last word is a prefix"
    );
    // Visibility applies: bob (billing) finds nothing of support's words.
    assert_eq!(found("creme", "bob").await, Vec::<u64>::new());
    assert_eq!(found("printer", "bob").await, vec![other]);
    assert_eq!(found("printer", "alice").await, vec![mine]);
}
