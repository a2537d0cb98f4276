// Package metrics defines the worker's Prometheus collectors on one registry
// and serves /metrics and /healthz.
package metrics

import (
	"net/http"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const ns = "logtide"

// Metrics holds every collector the worker exports.
type Metrics struct {
	Registry *prometheus.Registry

	MessagesReceived       prometheus.Counter
	MessagesDeleted        *prometheus.CounterVec // reason: done, test_event, nothing_to_do
	MessagesReturned       *prometheus.CounterVec // reason: retryable, shutdown
	MessagesKeptForRedrive *prometheus.CounterVec // reason: kept in the queue for its redrive
	MessagesInFlight       prometheus.Gauge

	Objects     *prometheus.CounterVec // outcome: done, failed
	ObjectBytes prometheus.Counter
	Records     *prometheus.CounterVec // outcome: read, indexed, stale, dead_lettered
	// HistoryDocuments: history copies of versioned records (--findings-history).
	HistoryDocuments *prometheus.CounterVec // outcome: written, duplicate, dead_lettered
	BulkRequests     *prometheus.CounterVec // outcome: ok, error
	BulkDuration     prometheus.Histogram
	BulkItems        *prometheus.CounterVec // outcome: written, stale, retry, rejected
	// BulkRequestFailures: requests without per-item answers, by reason.
	BulkRequestFailures *prometheus.CounterVec
	// BulkWaiting: requests waiting for the cluster to take them.
	BulkWaiting  prometheus.Gauge
	BulkMaxBytes prometheus.Gauge

	VisibilityExtensions prometheus.Counter

	ObjectsInFlight   prometheus.Gauge
	IntakeLimit       prometheus.Gauge
	BulkConcurrency   prometheus.Gauge
	BulkItemFailures  *prometheus.CounterVec // reason: the cluster's error type
	Lag               prometheus.Histogram
	MessageAge        prometheus.Histogram
	QueueMessages     *prometheus.GaugeVec // state: visible, in_flight, delayed
	QueuePollFailures prometheus.Counter
	SQSRequests       *prometheus.CounterVec // operation, outcome: ok, empty, error
}

// New registers the collectors on a fresh registry, with Go and process
// collectors and a build_info gauge.
func New(version string) *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{
		Registry:               r,
		MessagesReceived:       prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "messages_received_total", Help: "SQS messages received."}),
		MessagesDeleted:        prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_deleted_total", Help: "SQS messages deleted after all their records were accounted for, by reason."}, []string{"reason"}),
		MessagesReturned:       prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_returned_total", Help: "SQS messages made visible again for a later attempt, by reason."}, []string{"reason"}),
		MessagesKeptForRedrive: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_left_for_redrive_total", Help: "SQS messages left in the queue after a permanent failure, for its redrive policy, by reason."}, []string{"reason"}),
		MessagesInFlight:       prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "messages_in_flight", Help: "SQS messages being processed."}),
		Objects:                prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "objects_total", Help: "S3 objects processed, by outcome."}, []string{"outcome"}),
		ObjectBytes:            prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "object_bytes_read_total", Help: "Bytes read from S3 objects, as stored (compressed)."}),
		Records:                prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "records_total", Help: "Records read from objects, and their outcomes: indexed, stale (this or a newer version was already indexed), dead_lettered."}, []string{"outcome"}),
		HistoryDocuments:       prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "history_documents_total", Help: "History copies of versioned records (--findings-history), by outcome: written, duplicate (a replay), dead_lettered."}, []string{"outcome"}),
		BulkRequests:           prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "bulk_requests_total", Help: "Bulk requests sent, by outcome."}, []string{"outcome"}),
		BulkDuration:           prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "bulk_request_duration_seconds", Help: "Duration of bulk requests.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		BulkItems:              prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "bulk_items_total", Help: "Bulk items by outcome."}, []string{"outcome"}),
		BulkRequestFailures:    prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "bulk_request_failures_total", Help: "Bulk requests that got no per-item answer, by reason: status_<code> (401, 403, 413, 429, 5xx, ...), timeout, tls, unreachable, no_answer."}, []string{"reason"}),
		BulkWaiting:            prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "bulk_requests_waiting", Help: "Bulk requests waiting for the cluster to take them (sent again with back-off; intake is paused meanwhile)."}),
		BulkMaxBytes:           prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "bulk_max_bytes", Help: "Most bytes per bulk request: --bulk-max-bytes, lowered after the cluster refused a request as too large (413)."}),
		VisibilityExtensions:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "visibility_extensions_total", Help: "Visibility timeout extensions of messages in work."}),
		IntakeLimit:            prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "intake_limit", Help: "Messages the worker currently allows in work: its configured concurrency, lowered while the cluster throttles."}),
		BulkConcurrency:        prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "bulk_concurrency_limit", Help: "Bulk requests the worker currently allows in flight: its configured bulk concurrency, lowered while the cluster throttles."}),
		ObjectsInFlight:        prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "objects_in_flight", Help: "S3 objects being read and indexed."}),
		BulkItemFailures:       prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "bulk_item_failures_total", Help: "Bulk items that failed, by the cluster's error type (e.g. es_rejected_execution_exception, mapper_parsing_exception)."}, []string{"reason"}),
		Lag:                    prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "lag_seconds", Help: "Time from the S3 event to the end of indexing its object.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 16)}),
		MessageAge:             prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "message_age_seconds", Help: "Age of SQS messages when received (now minus SentTimestamp): how long work waited in the queue.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 16)}),
		QueueMessages:          prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "queue_messages", Help: "Messages in the SQS queue by state, as last polled from its attributes (approximate)."}, []string{"state"}),
		QueuePollFailures:      prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "queue_poll_failures_total", Help: "Failed polls of the queue's attributes."}),
		SQSRequests:            prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sqs_requests_total", Help: "Requests sent to SQS, retries included, by operation and outcome (ok, empty: a receive that returned no message, error)."}, []string{"operation", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.MessagesReceived, m.MessagesDeleted, m.MessagesReturned, m.MessagesKeptForRedrive, m.MessagesInFlight,
		m.Objects, m.ObjectBytes, m.Records, m.HistoryDocuments, m.BulkRequests, m.BulkDuration, m.BulkItems, m.BulkRequestFailures, m.BulkWaiting, m.BulkMaxBytes, m.VisibilityExtensions,
		m.ObjectsInFlight, m.IntakeLimit, m.BulkConcurrency, m.BulkItemFailures, m.Lag, m.MessageAge, m.QueueMessages, m.QueuePollFailures, m.SQSRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "build_info", Help: "Build information; always 1."}, []string{"version", "goversion"})
	goVersion := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
	}
	bi.WithLabelValues(version, goVersion).Set(1)
	f(bi)
	return m
}

// Handler answers /metrics and /healthz. health, if not nil, is asked at
// every /healthz: an error answers 503 with its text, so that the
// orchestrator replaces a worker that is stuck.
func (m *Metrics) Handler(health func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if health != nil {
			if err := health(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("unhealthy: " + err.Error() + "\n"))
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
