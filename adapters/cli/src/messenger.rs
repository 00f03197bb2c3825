//! `meta messenger`: send a message or a private reply as a Page. Each run is one
//! process with no memory of earlier ones, so the 24-hour window and the one-reply rule
//! are left to Meta (its errors are printed with their code and subcode); malformed
//! messages are still refused before any call. Applications keep a shared
//! `MessagingGuard` instead (see `meta_graph::messenger::policy`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use meta_graph::GraphExt;
use meta_graph::messenger::{Message, MessageTag, QuickReply};

use crate::{ConnArgs, client_from};

/// Messenger commands.
#[derive(Debug, Subcommand)]
pub(crate) enum MessengerCommand {
    /// Send a text message to a person (PSID); prints `{"recipient_id","message_id"}`.
    Send {
        /// The Page id.
        #[arg(long)]
        page: String,
        /// The person's PSID.
        #[arg(long)]
        to: String,
        /// The text.
        #[arg(long)]
        text: String,
        /// Send with `messaging_type=MESSAGE_TAG` and this tag (e.g. HUMAN_AGENT).
        #[arg(long, conflicts_with = "update")]
        tag: Option<String>,
        /// Send with `messaging_type=UPDATE` instead of RESPONSE.
        #[arg(long)]
        update: bool,
        /// A quick reply `TITLE=PAYLOAD` (repeatable, up to 13).
        #[arg(long = "quick-reply", value_parser = crate::parse_kv)]
        quick_replies: Vec<(String, String)>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Send a private reply to a comment on the Page's content.
    PrivateReply {
        /// The Page id.
        #[arg(long)]
        page: String,
        /// The comment id.
        #[arg(long)]
        comment: String,
        /// The text.
        #[arg(long)]
        text: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
}

/// Runs a `meta messenger` command.
pub(crate) async fn run(cmd: MessengerCommand) -> Result<ExitCode> {
    run_inner(cmd).await.map_err(crate::comments::surface_meta)
}

async fn run_inner(cmd: MessengerCommand) -> Result<ExitCode> {
    let resp = match cmd {
        MessengerCommand::Send {
            page,
            to,
            text,
            tag,
            update,
            quick_replies,
            conn,
        } => {
            let message = quick_replies
                .into_iter()
                .fold(Message::text(text), |m, (t, p)| {
                    m.quick_reply(QuickReply::text(t, p))
                });
            let mut send = client_from(&conn)?.messenger().send(page, to, message);
            if let Some(t) = tag {
                send = send.tag(MessageTag::new(t));
            } else if update {
                send = send.update();
            }
            send.send().await?
        }
        MessengerCommand::PrivateReply {
            page,
            comment,
            text,
            conn,
        } => {
            client_from(&conn)?
                .messenger()
                .private_reply(page, comment, Message::text(text))
                .send()
                .await?
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&resp)?)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
