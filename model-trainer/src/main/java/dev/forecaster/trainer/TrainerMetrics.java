package dev.forecaster.trainer;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;

/**
 * The trainer service's metrics, in a registry of its own, served in Prometheus text format on
 * demand.
 */
public final class TrainerMetrics {

  final PrometheusRegistry registry = new PrometheusRegistry();
  final Counter rounds =
      Counter.builder()
          .name("forecaster_trainer_rounds")
          .help("Training rounds by trigger (schedule, drift, request) and decision")
          .labelNames("trigger", "decision")
          .register(registry);
  final Counter driftTriggers =
      Counter.builder()
          .name("forecaster_trainer_drift_triggers")
          .help("Rounds started early because live accuracy drifted")
          .register(registry);
  final Gauge servingVersion =
      Gauge.builder()
          .name("forecaster_trainer_serving_version")
          .help("Version of the model in service (latest on the models topic)")
          .register(registry);
  final Gauge servingBacktestMae =
      Gauge.builder()
          .name("forecaster_trainer_serving_backtest_mae")
          .help("Backtest MAE of the version in service")
          .register(registry);
  final Gauge liveMae =
      Gauge.builder()
          .name("forecaster_trainer_live_mae")
          .help("Live MAE of the version in service over its last K evaluations")
          .register(registry);
  final Gauge lastRoundFinished =
      Gauge.builder()
          .name("forecaster_trainer_last_round_finished_seconds")
          .help("Unix time the last round finished")
          .register(registry);
  final Gauge lastRoundDuration =
      Gauge.builder()
          .name("forecaster_trainer_last_round_duration_seconds")
          .help("How long the last round took")
          .register(registry);
  final Gauge roundEpochs =
      Gauge.builder()
          .name("forecaster_trainer_round_epochs")
          .help("Epochs trained so far in the running (or last) round, all members together")
          .register(registry);
  final Counter evaluationsRead =
      Counter.builder()
          .name("forecaster_trainer_evaluations_read")
          .help("Evaluation records read from the evaluations topic and checked for drift")
          .register(registry);
  final Gauge roundRunning =
      Gauge.builder()
          .name("forecaster_trainer_round_running")
          .help("1 while a round runs")
          .register(registry);
  final Gauge nextRoundDue =
      Gauge.builder()
          .name("forecaster_trainer_next_round_due_seconds")
          .help("Unix time the next scheduled round is due")
          .register(registry);

  /**
   * Serves {@code /metrics} on {@code host:port} (port 0: any free port; see {@link
   * HTTPServer#getPort()}).
   */
  public HTTPServer serve(String host, int port) throws IOException {
    return HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
  }
}
