"""Readers' "more / less like this": the two links under each story of a digest, the page they
open, and the thank-you page with its undo. The records and the "less of" list are
newsletter.subscribers.feedback; the personal ranking reads them (newsletter.personal.ranking).

SCANNER SAFETY: A GET SHOWS A PAGE, ONE TAP (A POST) RECORDS. Link scanners (Safe Links,
Mimecast, Proofpoint ...) open every link of an email seconds after delivery. Two designs were
possible: record on the GET unless the existing scanner rules (newsletter.analytics.heuristics)
later call the recipient's clicks a machine burst, or show a page whose one button records.
We chose the second:
- the burst rule can only judge a burst after the fact, and only when at least
  ANALYTICS_SCANNER_MIN_LINKS different stories were fetched: a short digest or a scanner that
  opens a few links is not recognised, and a "less" recorded by a machine would quietly hide a
  section from a reader. A GET that never writes cannot be triggered by any scanner;
- the choice is then recorded at once, so the thank-you page can offer its undo and the
  preference center shows it immediately (the burst rule needs the roll-up's settling delay);
- it is the house rule already: unsubscribe and double opt-in confirm by POST
  (docs RELIABILITY.md), so link scanners change nothing anywhere.
The price is one more tap for a reader. The POST carries the CSRF token of the page and the
signed link; requests with a bot user agent, prefetches and HEAD requests record nothing
(articles.reading.reads.should_count_meta, the rule the click redirect uses).

THE LINK. `/f/<story part>/<more|less>/<recipient part>/`: the click URL's two signed parts
(newsletter.email.links), so merging a recipient costs nothing more than their click links.
Refused, with a clear page and nothing recorded (`links.resolve`): a tampered or malformed link
(forged), a recipient part with an edition that reader was not sent (another reader's, or
spliced), a link older than PERSONAL_HISTORY_DAYS (replayed; the choice would be deleted by
retention anyway), and the editor's preview links. Choosing the same again changes nothing.
"""
