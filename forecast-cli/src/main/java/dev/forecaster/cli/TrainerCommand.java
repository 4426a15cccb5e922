package dev.forecaster.cli;

import dev.forecaster.schemas.Topics;
import dev.forecaster.trainer.DriftMonitor;
import dev.forecaster.trainer.RetrainSchedule;
import dev.forecaster.trainer.RoundRecord;
import dev.forecaster.trainer.TrainerService;
import dev.forecaster.trainer.TrainingPreset;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code forecast trainer}: the trainer as a long-lived service (schedule and drift trigger). */
@Command(
    name = "trainer",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Retrains on a schedule and when live accuracy drifts, until stopped (Ctrl-C or SIGTERM);"
          + " with --once, one round now for a scheduler of your own."
          + " Each round reads the history from the readings topic up to its end, trains, backtests"
          + " on the most recent 20%% of windows against persistence and the version in service,"
          + " and publishes only a better model.",
      "Every round is a line of <state-dir>/decisions.jsonl; a restart goes on from the last one."
          + " Metrics in Prometheus format on http://<metrics-host>:<metrics-port>/metrics."
    })
public final class TrainerCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--preset",
      paramLabel = "NAME",
      defaultValue = "weather",
      description =
          "Training defaults: weather, stock, or none (a search on --target and --model-features;"
              + " default: ${DEFAULT-VALUE}).")
  String preset;

  @Mixin ModelOptions model;

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--readings-topic",
      paramLabel = "TOPIC",
      defaultValue = Topics.Defaults.READINGS,
      description = "Readings topic, the history (default: ${DEFAULT-VALUE}).")
  String readingsTopic;

  @Option(
      names = "--models-topic",
      paramLabel = "TOPIC",
      defaultValue = Topics.Defaults.MODELS,
      description = "Compacted models topic (default: ${DEFAULT-VALUE}).")
  String modelsTopic;

  @Option(
      names = "--evaluations-topic",
      paramLabel = "TOPIC",
      defaultValue = Topics.Defaults.EVALUATIONS,
      description = "Evaluations topic the drift trigger follows (default: ${DEFAULT-VALUE}).")
  String evaluationsTopic;

  @ArgGroup(exclusive = true)
  When when = new When();

  static final class When {
    @Option(
        names = "--every",
        paramLabel = "DURATION",
        description =
            "Round interval from the end of the last round: 24h, 90m, 30s, PT6H (default: 24h).")
    String every;

    @Option(
        names = "--cron",
        paramLabel = "EXPR",
        description = "Unix cron expression in UTC instead, e.g. \"0 3 * * *\".")
    String cron;

    @Option(
        names = "--once",
        description =
            "One round now, then exit (for a scheduler of your own: cron, a Kubernetes CronJob):"
                + " exit status 0 when the round came to a decision, published or not, 1 when it"
                + " failed. No drift trigger, no metrics endpoint and no retry: their flags are"
                + " refused with it.")
    boolean once;
  }

  @Option(
      names = "--reason",
      paramLabel = "TEXT",
      defaultValue = "one round (--once)",
      description = "With --once: why, as the round's reason in the decision log.")
  String reason;

  @Option(
      names = "--drift-window",
      paramLabel = "K",
      defaultValue = "30",
      description =
          "Evaluations of the serving version the live MAE is taken over (default:"
              + " ${DEFAULT-VALUE}).")
  int driftWindow;

  @Option(
      names = "--drift-margin",
      paramLabel = "F",
      defaultValue = "0.25",
      description = "Drift when live MAE > backtest MAE x (1 + F) (default: ${DEFAULT-VALUE}).")
  double driftMargin;

  @Option(
      names = "--drift-cooldown",
      paramLabel = "DURATION",
      defaultValue = "1h",
      description = "Least time between two drift rounds (default: ${DEFAULT-VALUE}).")
  String driftCooldown;

  @Option(names = "--no-drift", description = "No drift trigger: scheduled rounds only.")
  boolean noDrift;

  @Option(
      names = "--publish-first",
      description =
          "Publish the model's first version even if it does not beat persistence (none in service:"
              + " the job has nothing to forecast with). Later versions must beat both.")
  boolean publishFirst;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      defaultValue = "trainer-state",
      description =
          "Decision log and local copies of published models (default: ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = "--history-timeout",
      paramLabel = "DURATION",
      defaultValue = "60s",
      description = "Most time to read the readings topic per round (default: ${DEFAULT-VALUE}).")
  String historyTimeout;

  @Option(
      names = "--retry-backoff",
      paramLabel = "DURATION",
      defaultValue = "1m",
      description =
          "After a failed round the next starts this much later, doubling with each failure in a"
              + " row up to the schedule's interval (default: ${DEFAULT-VALUE}).")
  String retryBackoff;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      defaultValue = "9464",
      description = "Prometheus /metrics port; 0 = off (default: ${DEFAULT-VALUE}).")
  int metricsPort;

  @Option(
      names = "--metrics-host",
      paramLabel = "ADDR",
      defaultValue = "127.0.0.1",
      description = "Address the metrics endpoint binds to (default: ${DEFAULT-VALUE}).")
  String metricsHost;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    TrainerService.Settings settings = settings();
    if (when.once) {
      return once(settings, out);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    TrainerService service = new TrainerService(settings, Clock.systemUTC());
    // the main thread closes the metrics endpoint and the service and prints the last line before
    // it counts down: the hook, and so the JVM, waits for all of it
    Thread hook = stopHook(service, stopped);
    try (service) {
      Runtime.getRuntime().addShutdownHook(hook);
      // the endpoint first: a port in use fails the start before a round can begin
      HTTPServer http = metricsPort > 0 ? serveMetrics(service) : null;
      try {
        service.start();
        Instant next = service.nextDue();
        out.printf(
            "trainer:  %s, %s; decisions in %s%s; next round %s%n",
            settings.template().name(),
            settings.schedule(),
            service.decisions().file(),
            http == null
                ? ""
                : "; metrics on http://" + metricsHost + ":" + http.getPort() + "/metrics",
            next.isAfter(Instant.now()) ? next : "now");
        out.flush();
        try (BrokerWatch watch = BrokerWatch.start(kafka.clientProperties(), out)) {
          service.awaitStopped();
        }
        out.println("trainer:  stopped");
        out.flush();
      } finally {
        if (http != null) {
          http.close();
        }
      }
    } finally { // after the service closed; also when the start fails (no broker, the port taken)
      stopped.countDown();
      removeHook(hook);
    }
    return 0;
  }

  /** The metrics endpoint; an address it cannot bind (a port in use) is named with its flags. */
  private HTTPServer serveMetrics(TrainerService service) throws IOException {
    try {
      return service.metrics().serve(metricsHost, metricsPort);
    } catch (SocketException e) { // a port in use, a host that does not resolve
      throw new IOException(
          String.format(
              "cannot serve metrics on %s:%d (--metrics-host, --metrics-port; port 0 turns the"
                  + " endpoint off): %s",
              metricsHost, metricsPort, e.getMessage()),
          e);
    }
  }

  /**
   * One round on this thread; SIGTERM or Ctrl-C abandons it at its next epoch (publishing nothing)
   * and the round's record says so.
   */
  private int once(TrainerService.Settings settings, PrintWriter out) throws InterruptedException {
    // the round's record written, its line printed and the service closed
    CountDownLatch done = new CountDownLatch(1);
    TrainerService service = new TrainerService(settings, Clock.systemUTC());
    Thread hook = stopHook(service, done);
    try (service) {
      Runtime.getRuntime().addShutdownHook(hook);
      RoundRecord r = service.runOnce(TrainerService.Trigger.SCHEDULE, reason);
      out.printf(
          "trainer:  %s: %s; decisions in %s%n",
          settings.template().name(),
          r.error() == null
              ? r.explanation()
              : "cancelled".equals(r.decision()) ? r.error() : "round failed: " + r.error(),
          service.decisions().file());
      out.flush();
      return r.error() == null ? 0 : 1;
    } finally {
      done.countDown();
      removeHook(hook);
    }
  }

  /** On Ctrl-C or SIGTERM: stop the service, then let the main thread finish until {@code done}. */
  private static Thread stopHook(TrainerService service, CountDownLatch done) {
    return new Thread(
        () -> {
          service.close();
          try {
            done.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        "trainer-stop");
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running: it returns now that the main thread is done
    }
  }

  /**
   * The flags that point a trainer at a job's broker and topics.
   *
   * @param bootstrapServers the broker
   * @param readings the readings topic (the history), then the models and evaluations topics
   */
  public static List<String> kafkaFlags(
      String bootstrapServers, String readings, String models, String evaluations) {
    return List.of(
        "--bootstrap-servers",
        bootstrapServers,
        "--readings-topic",
        readings,
        "--models-topic",
        models,
        "--evaluations-topic",
        evaluations);
  }

  /**
   * The model and training that {@code forecast trainer} would run for these flags (model flags
   * alone: the rest keep their defaults), so that a caller that starts a trainer with them knows
   * what it will train.
   */
  static TrainerService.Settings parse(List<String> flags) {
    TrainerCommand command = new TrainerCommand();
    new CommandLine(command) // as ForecastCommand.commandLine() parses it
        .setCaseInsensitiveEnumValuesAllowed(true)
        .parseArgs(flags.toArray(String[]::new));
    return command.settings();
  }

  /** Flags of the long-running service that one round (--once) has no use for. */
  static final List<String> ONLY_FOR_THE_SERVICE =
      List.of(
          "--metrics-port",
          "--metrics-host",
          "--drift-window",
          "--drift-margin",
          "--drift-cooldown",
          "--no-drift",
          "--retry-backoff");

  TrainerService.Settings settings() {
    CommandLine.ParseResult given = spec.commandLine().getParseResult();
    if (!when.once && given.hasMatchedOption("--reason")) {
      throw new ParameterException(spec.commandLine(), "--reason goes with --once");
    }
    List<String> notForOneRound =
        ONLY_FOR_THE_SERVICE.stream().filter(given::hasMatchedOption).toList();
    if (when.once && !notForOneRound.isEmpty()) {
      throw new ParameterException(
          spec.commandLine(),
          String.join(", ", notForOneRound)
              + " not with --once: one round has no metrics endpoint, no drift trigger and no"
              + " retry (the scheduler that runs it decides when to run it again)");
    }
    try {
      TrainingPreset defaults =
          preset.equalsIgnoreCase("none") ? null : TrainingPreset.named(preset);
      RetrainSchedule schedule =
          when.cron != null
              ? RetrainSchedule.cron(when.cron)
              : RetrainSchedule.every(
                  RetrainSchedule.parseDuration(when.every != null ? when.every : "24h"));
      DriftMonitor.Policy drift =
          noDrift
              ? null
              : new DriftMonitor.Policy(
                  driftWindow, driftMargin, RetrainSchedule.parseDuration(driftCooldown));
      return TrainerService.Settings.builder(
              kafka.clientProperties(),
              model.template(defaults, null),
              model.settings(defaults),
              stateDir)
          .topics(readingsTopic, modelsTopic, evaluationsTopic)
          .testFrom(model.testFrom())
          .schedule(schedule)
          .drift(drift)
          .historyTimeout(RetrainSchedule.parseDuration(historyTimeout))
          .retryBackoff(RetrainSchedule.parseDuration(retryBackoff))
          .publishFirst(publishFirst)
          .windows(model.windowPolicy())
          .search(model.search(defaults), model.budget())
          .build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
