//! The one transition table of a post: every state change the publisher makes goes
//! through [`transition`], so an illegal move (approving a draft, editing a published
//! post, re-arming a post whose outcome is unknown) is a typed error, never a silent
//! write.

use std::fmt;

use crate::publisher::store::PostState;

/// What happens to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The author (or an editor) changes the content or time; sends it back to draft.
    Edit,
    /// The author asks for approval.
    Submit,
    /// An approver (or the account's auto-approval) approves.
    Approve,
    /// An approver refuses for good.
    Reject,
    /// An approver asks for changes.
    RequestChanges,
    /// A time is set (or changed) for an approved post; also a person re-queuing a failed
    /// one.
    Schedule,
    /// Taken back from the schedule to approved (no time).
    Unschedule,
    /// A worker starts preparing media.
    Prepare,
    /// Media is ready (container `FINISHED`, photos uploaded).
    MediaReady,
    /// Governance or a failure before the irreversible call sends it back to wait.
    Defer,
    /// Persisted right before the one irreversible call.
    Arm,
    /// The post is known to have been sent back before any call was made (a lost race
    /// after arming, or Meta answered that nothing was applied).
    Disarm,
    /// Meta published it.
    Confirm,
    /// Meta refused it for good (or it cannot be published at all).
    Fail,
    /// The outcome of the irreversible call is unknown.
    LoseTrack,
    /// A person checked an unconfirmed post and found it published.
    ResolvePublished,
    /// A person checked an unconfirmed post and found it not published.
    ResolveNotPublished,
}

impl Event {
    /// A short name for errors and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Edit => "edit",
            Event::Submit => "submit",
            Event::Approve => "approve",
            Event::Reject => "reject",
            Event::RequestChanges => "request_changes",
            Event::Schedule => "schedule",
            Event::Unschedule => "unschedule",
            Event::Prepare => "prepare",
            Event::MediaReady => "media_ready",
            Event::Defer => "defer",
            Event::Arm => "arm",
            Event::Disarm => "disarm",
            Event::Confirm => "confirm",
            Event::Fail => "fail",
            Event::LoseTrack => "lose_track",
            Event::ResolvePublished => "resolve_published",
            Event::ResolveNotPublished => "resolve_not_published",
        }
    }

    /// Every event.
    pub const ALL: &'static [Event] = &[
        Event::Edit,
        Event::Submit,
        Event::Approve,
        Event::Reject,
        Event::RequestChanges,
        Event::Schedule,
        Event::Unschedule,
        Event::Prepare,
        Event::MediaReady,
        Event::Defer,
        Event::Arm,
        Event::Disarm,
        Event::Confirm,
        Event::Fail,
        Event::LoseTrack,
        Event::ResolvePublished,
        Event::ResolveNotPublished,
    ];
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use Event as E;
use PostState as S;

/// `(from, event) → to`. The only place the life of a post is defined.
pub const TABLE: &[(PostState, Event, PostState)] = &[
    // Writing and approval.
    (S::Draft, E::Edit, S::Draft),
    (S::Draft, E::Submit, S::PendingApproval),
    (S::PendingApproval, E::Approve, S::Approved),
    (S::PendingApproval, E::Reject, S::Rejected),
    (S::PendingApproval, E::RequestChanges, S::ChangesRequested),
    (S::PendingApproval, E::Edit, S::Draft),
    (S::ChangesRequested, E::Edit, S::Draft),
    (S::ChangesRequested, E::Submit, S::PendingApproval),
    // An approved or scheduled post that is edited needs approving again.
    (S::Approved, E::Edit, S::Draft),
    (S::Approved, E::Schedule, S::Scheduled),
    (S::Scheduled, E::Edit, S::Draft),
    (S::Scheduled, E::Schedule, S::Scheduled),
    (S::Scheduled, E::Unschedule, S::Approved),
    // The worker.
    (S::Scheduled, E::Prepare, S::Preparing),
    (S::Scheduled, E::Defer, S::Scheduled),
    (S::Scheduled, E::Fail, S::Failed),
    (S::Preparing, E::MediaReady, S::Ready),
    (S::Preparing, E::Defer, S::Scheduled),
    (S::Preparing, E::Fail, S::Failed),
    (S::Preparing, E::Edit, S::Draft),
    (S::Ready, E::Arm, S::Publishing),
    (S::Ready, E::Defer, S::Scheduled),
    (S::Ready, E::Fail, S::Failed),
    (S::Ready, E::Edit, S::Draft),
    // Armed: only the outcome of the one call (or proof that it was not made) moves it.
    (S::Publishing, E::Confirm, S::Published),
    (S::Publishing, E::Fail, S::Failed),
    (S::Publishing, E::Disarm, S::Scheduled),
    (S::Publishing, E::LoseTrack, S::Unconfirmed),
    // A person settles what the machine could not.
    (S::Unconfirmed, E::ResolvePublished, S::Published),
    (S::Unconfirmed, E::ResolveNotPublished, S::Failed),
    (S::Failed, E::Schedule, S::Scheduled),
    (S::Failed, E::Edit, S::Draft),
];

/// A move the table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a post in state {from} cannot {event}")]
pub struct IllegalTransition {
    /// The state the post was in.
    pub from: PostState,
    /// What was attempted.
    pub event: Event,
}

/// Where `event` takes a post in state `from`.
///
/// # Errors
/// [`IllegalTransition`] when the table has no such move.
pub fn transition(from: PostState, event: Event) -> Result<PostState, IllegalTransition> {
    TABLE
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(IllegalTransition { from, event })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_is_a_function() {
        let mut seen = HashSet::new();
        for (from, event, _) in TABLE {
            assert!(seen.insert((*from, *event)), "{from} {event} listed twice");
        }
    }

    #[test]
    fn every_pair_is_either_in_the_table_or_an_error() {
        let mut allowed = 0;
        for from in PostState::ALL {
            for event in Event::ALL {
                match transition(*from, *event) {
                    Ok(to) => {
                        allowed += 1;
                        assert!(TABLE.contains(&(*from, *event, to)));
                    }
                    Err(e) => {
                        assert_eq!(
                            e,
                            IllegalTransition {
                                from: *from,
                                event: *event
                            }
                        );
                        assert!(e.to_string().contains(from.as_str()));
                    }
                }
            }
        }
        assert_eq!(allowed, TABLE.len());
    }

    #[test]
    fn the_happy_path() {
        let path = [
            (E::Submit, S::PendingApproval),
            (E::Approve, S::Approved),
            (E::Schedule, S::Scheduled),
            (E::Prepare, S::Preparing),
            (E::MediaReady, S::Ready),
            (E::Arm, S::Publishing),
            (E::Confirm, S::Published),
        ];
        let mut s = S::Draft;
        for (e, want) in path {
            s = transition(s, e).unwrap();
            assert_eq!(s, want);
        }
    }

    #[test]
    fn protected_states() {
        // Published is final: nothing moves it.
        for e in Event::ALL {
            assert!(transition(S::Published, *e).is_err(), "published + {e}");
        }
        // Armed posts cannot be edited, deferred, re-armed or re-prepared.
        for e in [
            E::Edit,
            E::Defer,
            E::Arm,
            E::Prepare,
            E::Schedule,
            E::Submit,
        ] {
            assert!(transition(S::Publishing, e).is_err(), "publishing + {e}");
            assert!(transition(S::Unconfirmed, e).is_err(), "unconfirmed + {e}");
        }
        assert!(!S::Publishing.is_editable());
        assert!(!S::Published.is_editable());
        // Rejected is final too.
        for e in Event::ALL {
            assert!(transition(S::Rejected, *e).is_err(), "rejected + {e}");
        }
    }

    #[test]
    fn approval_needs_a_pending_post() {
        for from in [S::Draft, S::Approved, S::Scheduled, S::ChangesRequested] {
            assert!(transition(from, E::Approve).is_err());
            assert!(transition(from, E::Reject).is_err());
        }
        assert_eq!(
            transition(S::ChangesRequested, E::Submit),
            Ok(S::PendingApproval)
        );
        // Scheduling an unapproved post is illegal.
        for from in [
            S::Draft,
            S::PendingApproval,
            S::ChangesRequested,
            S::Rejected,
        ] {
            assert!(transition(from, E::Schedule).is_err());
        }
    }
}
