/* xenci status page: keeps a server-rendered page live over one EventSource.
 * Without JavaScript the page is complete as served; this only adds liveness.
 *
 * body[data-stream] names the page's stream. On an attempt page the stream
 * sends "line" events whose data is server-rendered, escaped HTML of new console
 * lines (the controller's escaping, never ours), and "state" when the attempt
 * ends; elsewhere any controller event re-fetches the page and swaps its <main>.
 * EventSource resends Last-Event-ID itself when it reconnects. */
(function () {
	'use strict';
	var url = document.body.getAttribute('data-stream');
	if (!url || !window.EventSource)
		return;
	var live = document.getElementById('live');
	var es = new EventSource(url);
	var timer = null;

	function mark(on) {
		if (!live)
			return;
		live.hidden = false;
		live.className = on ? 'live' : 'live off';
		live.textContent = on ? 'live' : 'reconnecting';
	}

	function refresh() {
		timer = null;
		fetch(location.href, { headers: { 'Accept': 'text/html' } })
			.then(function (r) { return r.ok ? r.text() : null; })
			.then(function (text) {
				if (!text)
					return;
				var doc = new DOMParser().parseFromString(text, 'text/html');
				var fresh = doc.querySelector('main');
				var cur = document.querySelector('main');
				if (fresh && cur)
					cur.replaceWith(document.importNode(fresh, true));
			}).catch(function () {});
	}

	es.onopen = function () { mark(true); };
	es.onerror = function () { mark(false); };

	es.addEventListener('line', function (ev) {
		var log = document.getElementById('log');
		if (!log)
			return;
		var empty = log.querySelector('.empty');
		if (empty)
			empty.remove();
		var atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
		var tpl = document.createElement('template');
		tpl.innerHTML = ev.data;
		tpl.content.querySelectorAll('.l').forEach(function (l) {
			if (!document.getElementById(l.id)) {
				l.classList.add('new');
				log.appendChild(l);
			}
		});
		if (atEnd)
			log.scrollTop = log.scrollHeight;
	});

	es.addEventListener('state', function () {
		/* The attempt ended: the final page has the verdict and the whole log. */
		es.close();
		refresh();
	});

	/* The controller's event types (GET /api/v1/events): any of them may change
	 * what a page shows, so each re-fetches the page, once per burst. */
	function changed() {
		if (!timer)
			timer = setTimeout(refresh, 300);
	}
	['agent.declared', 'attempt.created', 'attempt.queued', 'attempt.claimed',
	 'attempt.running', 'attempt.stage', 'attempt.finished', 'board.unhealthy',
	 'flight.created', 'change', 'message'].forEach(function (type) {
		es.addEventListener(type, changed);
	});
})();
