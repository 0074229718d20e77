"""Email: an edition rendered once per segment (subject, text, HTML from three templates), the RTL
helpers those templates rely on, every URL an email carries, and the one place where outgoing
messages get their headers (List-Unsubscribe, List-Unsubscribe-Post) and metadata. Pure: rendering
returns the email with its click targets and writes nothing.

- `render`: templates -> RenderedEmail, per segment, with merge fields for per-recipient values;
  `render_segment`, `preview_segment` for a segment's stories (newsletter.editions.segments).
- `links`: absolute URLs, UTM parameters, archive addresses and the first-party click URL.
- `rtl`: RLM marks, Latin runs, Arabic digits and dates.
- `message`: AnymailMessage construction for the batch and the per-recipient paths.
- `conf`: DIGEST_UTM_PARAMS, ANALYTICS_CLICK_TRACKING.
"""
