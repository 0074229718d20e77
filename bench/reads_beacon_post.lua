-- wrk script: navigator.sendBeacon-style POST (text/plain body = article id) to /r/.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.body = os.getenv("ARTICLE_ID") or "1"
