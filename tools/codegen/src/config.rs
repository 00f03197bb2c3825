//! What to generate: which nodes, which enums, and the few places where the Rust type
//! is more precise than the spec says. Everything else comes from the spec files.

/// A Graph node to generate, read from `specs/<spec>.json`.
pub struct Node {
    /// The spec's node name (file stem).
    pub spec: &'static str,
    /// The Rust struct name. The field enum is `<rust>Field`.
    pub rust: &'static str,
    /// The module file under `generated/`.
    pub module: &'static str,
    /// The first line of the struct's doc comment.
    pub doc: &'static str,
    /// A type alias named after the spec node, when the Rust name differs from it.
    pub alias: Option<&'static str>,
}

/// The nodes meta-graph reads, in the order they are listed in `generated/mod.rs`.
pub const NODES: &[Node] = &[
    Node {
        spec: "Page",
        rust: "Page",
        module: "page",
        doc: "A Facebook Page.",
        alias: None,
    },
    Node {
        spec: "PagePost",
        rust: "PagePost",
        module: "page_post",
        doc: "A post on a Facebook Page (feed, published, scheduled and tagged posts).",
        alias: None,
    },
    Node {
        spec: "Photo",
        rust: "Photo",
        module: "photo",
        doc: "A photo (for example one uploaded to a Page with `POST /{page-id}/photos`).",
        alias: None,
    },
    Node {
        spec: "AdVideo",
        rust: "AdVideo",
        module: "ad_video",
        doc: "A video: Page videos and reels, and the video behind a live video.",
        alias: None,
    },
    Node {
        spec: "VideoStatus",
        rust: "VideoStatus",
        module: "video_status",
        doc: "The processing status of a video (`status` of [`AdVideo`]).",
        alias: None,
    },
    Node {
        spec: "Comment",
        rust: "Comment",
        module: "comment",
        doc: "A comment on a Facebook object (post, photo, video, live video, comment).",
        alias: None,
    },
    Node {
        spec: "LiveVideo",
        rust: "LiveVideo",
        module: "live_video",
        doc: "A Facebook live video.",
        alias: None,
    },
    Node {
        spec: "IGUser",
        rust: "IgUser",
        module: "ig_user",
        doc: "An Instagram professional account (Meta's `IGUser`).",
        alias: None,
    },
    Node {
        spec: "IGMedia",
        rust: "IgMedia",
        module: "ig_media",
        doc: "An Instagram media object: post, reel, story or carousel (Meta's `IGMedia`).",
        alias: None,
    },
    Node {
        spec: "IGComment",
        rust: "IgComment",
        module: "ig_comment",
        doc: "A comment on Instagram media (Meta's `IGComment`).",
        alias: None,
    },
    Node {
        spec: "IGCommentFromUser",
        rust: "IgCommentFromUser",
        module: "ig_comment_from_user",
        doc: "The author of an Instagram comment (`from` of [`IgComment`]).",
        alias: None,
    },
    Node {
        spec: "ShadowIGMediaBuilder",
        rust: "IgContainer",
        module: "ig_container",
        doc: "An Instagram media container: what `POST /{ig-user-id}/media` creates and \
              `media_publish` publishes. Meta calls this node `ShadowIGMediaBuilder`; poll \
              `status_code` (and read `status` for the error text) before publishing.",
        alias: Some("ShadowIgMediaBuilder"),
    },
    Node {
        spec: "IGResumableVideoUploadStatus",
        rust: "IgResumableVideoUploadStatus",
        module: "ig_resumable_video_upload_status",
        doc: "The upload and processing phases of a resumable Instagram video upload \
              (`video_status` of [`IgContainer`]).",
        alias: None,
    },
    Node {
        spec: "ContentPublishingLimitResponse",
        rust: "ContentPublishingLimit",
        module: "content_publishing_limit",
        doc: "An Instagram account's publishing quota, from \
              `GET /{ig-user-id}/content_publishing_limit` (Meta's \
              `ContentPublishingLimitResponse`).",
        alias: Some("ContentPublishingLimitResponse"),
    },
    Node {
        spec: "InsightsResult",
        rust: "InsightsResult",
        module: "insights_result",
        doc: "One metric from Page or Page-post insights (`GET /{id}/insights`).",
        alias: None,
    },
    Node {
        spec: "InsightsValue",
        rust: "InsightsValue",
        module: "insights_value",
        doc: "One value of an [`InsightsResult`] (a number, or an object for breakdowns).",
        alias: None,
    },
    Node {
        spec: "InstagramInsightsResult",
        rust: "InstagramInsightsResult",
        module: "instagram_insights_result",
        doc: "One metric from Instagram account or media insights (`GET /{ig-id}/insights`).",
        alias: None,
    },
    Node {
        spec: "InstagramInsightsValue",
        rust: "InstagramInsightsValue",
        module: "instagram_insights_value",
        doc: "One value of an [`InstagramInsightsResult`].",
        alias: None,
    },
];

/// An enum taken from `specs/enum_types.json`.
pub struct SpecEnum {
    /// The `name` in `enum_types.json`.
    pub spec: &'static str,
    /// The Rust name.
    pub rust: &'static str,
    /// The first line of its doc comment.
    pub doc: &'static str,
}

/// Enums for the parameters meta-graph sends (and the fields typed with them below).
pub const SPEC_ENUMS: &[SpecEnum] = &[
    SpecEnum {
        spec: "commentcomments_filter_enum_param",
        rust: "CommentFilter",
        doc: "`filter` of a comments edge: every comment (`stream`) or only top-level ones.",
    },
    SpecEnum {
        spec: "commentcomments_order_enum_param",
        rust: "CommentOrder",
        doc: "`order` of a comments edge.",
    },
    SpecEnum {
        spec: "commentcomments_live_filter_enum_param",
        rust: "CommentLiveFilter",
        doc: "`live_filter` of a comments edge (live videos: hide low-quality comments).",
    },
    SpecEnum {
        spec: "pagelive_videos_broadcast_status_enum_param",
        rust: "LiveVideoStatus",
        doc: "The broadcast status of a live video: the `status` field of [`LiveVideo`] and the \
              `broadcast_status` filter of `GET /{page-id}/live_videos`.",
    },
    SpecEnum {
        spec: "pageinsights_period_enum_param",
        rust: "InsightsPeriod",
        doc: "`period` of an insights request, and the `period` of each insights result.",
    },
    SpecEnum {
        spec: "pageinsights_date_preset_enum_param",
        rust: "DatePreset",
        doc: "`date_preset` of a Page or post insights request.",
    },
    SpecEnum {
        spec: "shadowiguserinsights_metric_type_enum_param",
        rust: "IgInsightsMetricType",
        doc: "`metric_type` of Instagram account insights.",
    },
    SpecEnum {
        spec: "shadowiguserinsights_timeframe_enum_param",
        rust: "IgInsightsTimeframe",
        doc: "`timeframe` of Instagram account insights (demographic metrics).",
    },
    SpecEnum {
        spec: "shadowiguserinsights_breakdown_enum_param",
        rust: "IgUserInsightsBreakdown",
        doc: "`breakdown` of Instagram account insights.",
    },
    SpecEnum {
        spec: "shadowigmediainsights_breakdown_enum_param",
        rust: "IgMediaInsightsBreakdown",
        doc: "`breakdown` of Instagram media insights.",
    },
    SpecEnum {
        spec: "pagemessages_messaging_type_enum_param",
        rust: "MessagingType",
        doc: "`messaging_type` of a Send API call (`POST /{page-id}/messages`).",
    },
    SpecEnum {
        spec: "pagemessages_notification_type_enum_param",
        rust: "NotificationType",
        doc: "`notification_type` of a Send API call.",
    },
    SpecEnum {
        spec: "pagemessages_sender_action_enum_param",
        rust: "SenderAction",
        doc: "`sender_action` of a Send API call.",
    },
    SpecEnum {
        spec: "pagevideos_upload_phase_enum_param",
        rust: "VideoUploadPhase",
        doc: "`upload_phase` of a chunked video upload (`POST /{page-id}/videos`).",
    },
];

/// An enum the specs do not enumerate (they type the field `string`), with its values
/// from Meta's documentation. Kept here, next to its source, so it is reviewed like code.
pub struct SupplementaryEnum {
    /// The Rust name.
    pub rust: &'static str,
    /// The first line of its doc comment.
    pub doc: &'static str,
    /// Where the values come from.
    pub source: &'static str,
    /// The wire values.
    pub values: &'static [&'static str],
}

/// Enums for `string` fields whose values Meta documents.
pub const SUPPLEMENTARY_ENUMS: &[SupplementaryEnum] = &[
    SupplementaryEnum {
        rust: "IgContainerStatusCode",
        doc: "`status_code` of an Instagram media container ([`IgContainer`]).",
        source: "Meta's content-publishing guide (developers.facebook.com/docs/instagram-platform/\
                 content-publishing); `EXPIRED` means not published within 24 hours, `FINISHED` \
                 means ready to publish",
        values: &["EXPIRED", "ERROR", "FINISHED", "IN_PROGRESS", "PUBLISHED"],
    },
    SupplementaryEnum {
        rust: "IgMediaType",
        doc: "`media_type` of published Instagram media ([`IgMedia`]).",
        source: "Meta's IG Media reference (developers.facebook.com/docs/instagram-platform/\
                 reference/instagram-media)",
        values: &["CAROUSEL_ALBUM", "IMAGE", "VIDEO"],
    },
    SupplementaryEnum {
        rust: "IgMediaProductType",
        doc: "`media_product_type` of Instagram media: where it was published ([`IgMedia`]).",
        source: "Meta's IG Media reference (developers.facebook.com/docs/instagram-platform/\
                 reference/instagram-media)",
        values: &["AD", "FEED", "STORY", "REELS"],
    },
    SupplementaryEnum {
        rust: "IgContainerMediaType",
        doc: "`media_type` when creating an Instagram media container \
              (`POST /{ig-user-id}/media`); leave it out for a single image.",
        source: "Meta's IG User media reference (developers.facebook.com/docs/instagram-platform/\
                 instagram-graph-api/reference/ig-user/media); `VIDEO` is for carousel items only",
        values: &["CAROUSEL", "REELS", "STORIES", "VIDEO"],
    },
];

/// A field typed with a generated enum although the spec says `string`.
pub struct FieldOverride {
    /// The spec's node name.
    pub node: &'static str,
    /// The field name.
    pub field: &'static str,
    /// The Rust enum (from [`SPEC_ENUMS`] or [`SUPPLEMENTARY_ENUMS`]).
    pub rust_enum: &'static str,
}

/// Fields typed more precisely than the spec. Unknown values still decode (to `Unknown`).
pub const FIELD_OVERRIDES: &[FieldOverride] = &[
    FieldOverride {
        node: "LiveVideo",
        field: "status",
        rust_enum: "LiveVideoStatus",
    },
    FieldOverride {
        node: "IGMedia",
        field: "media_type",
        rust_enum: "IgMediaType",
    },
    FieldOverride {
        node: "IGMedia",
        field: "media_product_type",
        rust_enum: "IgMediaProductType",
    },
    FieldOverride {
        node: "ShadowIGMediaBuilder",
        field: "status_code",
        rust_enum: "IgContainerStatusCode",
    },
    FieldOverride {
        node: "InsightsResult",
        field: "period",
        rust_enum: "InsightsPeriod",
    },
    FieldOverride {
        node: "InstagramInsightsResult",
        field: "period",
        rust_enum: "InsightsPeriod",
    },
];
