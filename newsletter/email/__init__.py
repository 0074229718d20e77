"""Email: render an edition once per segment (subject, text, HTML from three templates), the RTL
helpers those templates rely on, and the one place where outgoing messages get their headers
(List-Unsubscribe, List-Unsubscribe-Post) and metadata.

- `render`: templates -> RenderedEmail, per segment, with merge fields for per-recipient values.
- `rtl`: RLM marks, Latin runs, Arabic digits and dates.
- `site`: absolute URLs and UTM parameters.
- `message`: AnymailMessage construction for the batch and the per-recipient paths.
"""
