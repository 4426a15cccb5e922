package dev.forecaster.bench;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.cli.ReadingsProducer;
import dev.forecaster.cli.TrainerCommand;
import dev.forecaster.job.JobConfig;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.trainer.BoundedRead;
import dev.forecaster.trainer.ModelRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What production does to the pipeline, one scenario at a time, each on a fresh broker (a process
 * of its own, its data on disk): the broker killed and restarted, task managers lost, the job
 * process killed and started again, the trainer killed while training and while publishing, bad
 * model updates with a compaction and a restart, a poison record, a day far in the future. Each
 * prints one JSON line counted from the topics (read_committed) after the broker's retention check
 * has run.
 */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description =
        "Failure scenarios against real processes; one JSON line each: windows, forecasts,"
            + " duplicates, missing, dead letters, job restarts.")
final class ChaosBench implements Callable<Integer> {

  static final List<String> SCENARIOS =
      List.of(
          "broker-kill",
          "taskmanager-loss",
          "job-kill",
          "trainer-kill",
          "model-updates",
          "poison",
          "far-future");

  @Spec CommandSpec spec;

  @Option(
      names = "--scenario",
      split = ",",
      description = "Scenarios to run (default: all): ${COMPLETION-CANDIDATES}",
      completionCandidates = Names.class)
  List<String> scenarios = SCENARIOS;

  @Option(
      names = "--series",
      defaultValue = "20",
      description = "Series (default: ${DEFAULT-VALUE}).")
  int series;

  @Option(
      names = "--days",
      defaultValue = "150",
      description = "Days per series (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(
      names = "--rate",
      defaultValue = "100",
      description = "Readings per second sent (default: ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--out",
      defaultValue = "out/chaos",
      description = "Logs, broker data and results.jsonl (default: ${DEFAULT-VALUE}).")
  Path out;

  static final class Names implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return SCENARIOS.iterator();
    }
  }

  private PrintWriter log;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    log = spec.commandLine().getErr();
    for (String s : scenarios) {
      if (!SCENARIOS.contains(s)) {
        throw new IllegalArgumentException("unknown scenario " + s + "; known: " + SCENARIOS);
      }
    }
    Files.createDirectories(out);
    Path results = out.resolve("results.jsonl");
    for (String scenario : scenarios) {
      ObjectNode line;
      try {
        line = run(scenario);
      } catch (Exception e) {
        line = BenchSupport.JSON.createObjectNode();
        line.put("scenario", scenario);
        line.put("error", String.valueOf(e));
        e.printStackTrace(log);
      }
      stdout.println(line);
      stdout.flush();
      Files.writeString(
          results,
          line + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    }
    return 0;
  }

  private void say(String scenario, String format, Object... args) {
    log.printf(
        "%s %-16s %s%n",
        LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")),
        scenario,
        String.format(format, args));
    log.flush();
  }

  private ObjectNode run(String scenario) throws Exception {
    Path dir = out.resolve(scenario);
    deleteTree(dir);
    Files.createDirectories(dir);
    try (Stage stage = new Stage(scenario, dir)) {
      ObjectNode extra = BenchSupport.JSON.createObjectNode();
      switch (scenario) {
        case "broker-kill" -> brokerKill(stage);
        case "taskmanager-loss" -> taskManagerLoss(stage);
        case "job-kill" -> jobKill(stage, extra);
        case "trainer-kill" -> trainerKill(stage, extra);
        case "model-updates" -> modelUpdates(stage, extra);
        case "poison" -> poison(stage);
        case "far-future" -> farFuture(stage);
        default -> throw new IllegalArgumentException(scenario);
      }
      ObjectNode result = stage.measure();
      result.setAll(extra);
      return result;
    }
  }

  // --- the scenarios ---------------------------------------------------------------------------

  private void brokerKill(Stage stage) throws Exception {
    stage.publishReference();
    stage.submit();
    stage.stream(
        day -> {
          if (day == days / 4 || day == days / 2 || day == 3 * days / 4) {
            say(stage.name, "day %d: SIGKILL broker", day);
            stage.broker.kill();
            Thread.sleep(5_000);
            stage.broker.start(); // the same port and data
            say(stage.name, "broker back");
          }
        });
  }

  private void taskManagerLoss(Stage stage) throws Exception {
    stage.publishReference();
    stage.submit();
    stage.stream(
        day -> {
          if (day == days / 4 || day == days / 2 || day == 3 * days / 4) {
            say(stage.name, "day %d: task manager %d lost", day, stage.cluster.taskManager());
            stage.cluster.loseTaskManager(); // a replacement starts, as a resource manager would
          }
        });
  }

  private void jobKill(Stage stage, ObjectNode extra) throws Exception {
    stage.publishReference();
    BenchProcess job = stage.jobProcess();
    int[] restores = {0};
    try {
      job.await(0, l -> l.contains("running: readings from"), Duration.ofMinutes(2));
      stage.stream(
          day -> {
            if (day == days / 3 || day == 2 * days / 3) {
              // let a checkpoint complete after the last few days, then kill mid-stream
              Thread.sleep(3_000);
              say(stage.name, "day %d: SIGKILL job process", day);
              job.kill();
              int mark = job.mark();
              job.start();
              job.await(mark, l -> l.contains("running: readings from"), Duration.ofMinutes(2));
              if (job.count(l -> l.contains("restoring the windows")) > restores[0]) {
                restores[0]++;
              }
            }
          });
      stage.awaitOutput();
    } finally {
      stage.jobRestartsFromLog = job.count(l -> l.contains("to RESTARTING"));
      job.close();
    }
    extra.put("kills", 2);
    extra.put("restoredFromCheckpoint", restores[0]);
  }

  private void trainerKill(Stage stage, ObjectNode extra) throws Exception {
    // no model yet: the trainer publishes the first one; windows wait for it meanwhile
    stage.submit();
    Thread streaming = stage.streamInBackground();
    // the trainer needs some history first
    while (stage.sentDays() < days / 3) {
      Thread.sleep(200);
    }
    BenchProcess trainer = stage.trainerProcess();
    try {
      trainer.await(0, l -> l.contains("round started"), Duration.ofMinutes(2));
      Thread.sleep(3_000);
      say(stage.name, "SIGKILL trainer while training");
      trainer.kill();
      int mark = trainer.mark();
      trainer.start();
      trainer.await(mark, l -> l.contains(": publishing v"), Duration.ofMinutes(10));
      say(stage.name, "SIGKILL trainer while publishing");
      trainer.kill();
      mark = trainer.mark();
      trainer.start();
      String done =
          trainer.await(
              mark,
              l -> l.contains(": round ") && !l.contains("round started"),
              Duration.ofMinutes(10));
      say(stage.name, "trainer: %s", done);
      streaming.join();
      stage.awaitOutput();
    } finally {
      trainer.close();
    }
    extra.put("trainerKills", 2);
    extra.putPOJO(
        "modelVersions", stage.registry().readAll().stream().map(ModelUpdate::getVersion).toList());
  }

  private void modelUpdates(Stage stage, ObjectNode extra) throws Exception {
    ModelUpdate v1 = stage.publishReference();
    stage.submit();
    ModelRegistry registry = stage.registry();
    String name = v1.getModelName();
    stage.stream(
        day -> {
          if (day == days / 3) {
            ModelUpdate corrupt = withArtifact(BenchSupport.reversioned(v1, 2), flipped(v1));
            ModelUpdate forged = ModelUpdate.newBuilder(v1).setVersion(3).build();
            ModelUpdate older = ModelUpdate.newBuilder(v1).build(); // v1 again
            byte[] big = new byte[12 * 1024 * 1024];
            new Random(3).nextBytes(big);
            ModelUpdate huge = withArtifact(BenchSupport.reversioned(v1, 4), big);
            // written by hand, past the registry's checks; the corrupt one twice under one key,
            // so that compaction has something to remove (its sign that it ran)
            stage.sendModel(ModelRegistry.key(name, 2), corrupt);
            stage.sendModel(ModelRegistry.key(name, 2), corrupt);
            stage.sendModel(ModelRegistry.key(name, 3), forged);
            stage.sendModel(ModelRegistry.key(name, 1), older);
            stage.sendModel(ModelRegistry.key(name, 4), huge);
            say(stage.name, "day %d: corrupt, forged, older and huge updates written", day);
          }
          if (day == 2 * days / 3) {
            stage.compactModels();
            stage.cluster.restartFromCheckpoint(stage.config, stage.name);
            say(
                stage.name,
                "day %d: models topic compacted; job restarted from its checkpoint",
                day);
          }
        });
    extra.put("servingAfter", registry.serving(name).map(ModelUpdate::getVersion).orElse(-1L));
    extra.putPOJO(
        "forecastVersions",
        stage.forecasts().stream().map(Forecast::getModelVersion).distinct().sorted().toList());
  }

  private void poison(Stage stage) throws Exception {
    stage.publishReference();
    stage.submit();
    stage.stream(
        day -> {
          if (day == days / 2) {
            byte[] poison = new byte[1_048_400]; // just under a stock broker's 1 MiB limit
            new Random(5).nextBytes(poison);
            stage.sendRaw("station-0", poison);
            say(stage.name, "day %d: %d random bytes sent as a reading", day, poison.length);
          }
        });
  }

  private void farFuture(Stage stage) throws Exception {
    stage.publishReference();
    stage.submit();
    stage.stream(
        day -> {
          if (day == days / 2) {
            Reading future =
                Reading.newBuilder(BenchSupport.synthetic(stage.seattle, 0, day))
                    .setDay(LocalDate.of(9999, 12, 31))
                    .build();
            stage.sendRaw("station-0", Codecs.READING.encode(future));
            say(stage.name, "day %d: station-0 for 9999-12-31 sent", day);
          }
        });
  }

  private static byte[] flipped(ModelUpdate update) {
    try {
      byte[] bytes = ModelUpdates.artifactBytes(update);
      bytes[bytes.length / 2] ^= 0x5a;
      return bytes;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static ModelUpdate withArtifact(ModelUpdate update, byte[] artifact) {
    return ModelUpdate.newBuilder(update).setArtifact(ByteBuffer.wrap(artifact)).build();
  }

  // --- one scenario's world --------------------------------------------------------------------

  @FunctionalInterface
  interface DayHook {
    void before(int day) throws Exception;
  }

  private final class Stage implements AutoCloseable {
    final String name;
    final Path dir;
    final BenchBroker broker;
    final List<Reading> seattle;
    JobConfig config;
    BenchCluster cluster;
    long jobRestartsFromLog = -1;
    private volatile int sentDays;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ReadingsProducer.Failures failures = new ReadingsProducer.Failures();

    Stage(String name, Path dir) throws Exception {
      this.name = name;
      this.dir = dir;
      this.seattle = BenchSupport.seattle();
      this.broker =
          BenchBroker.separateProcess(
              dir.resolve("kafka"),
              Map.of(
                  "log.retention.check.interval.ms", "2000",
                  "log.cleaner.backoff.ms", "200"));
      say(name, "broker on %s, data in %s", broker.bootstrapServers(), dir.resolve("kafka"));
      this.config =
          BenchSupport.topics(
              broker,
              name,
              2,
              Map.of(
                  "checkpoint.interval.ms", "1000",
                  "checkpoint.dir", dir.resolve("checkpoints").toUri().toString(),
                  "model.name", "weather"));
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
      p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000"); // outlives a broker restart
      p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(32 * 1024 * 1024));
      this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    ModelRegistry registry() {
      return new ModelRegistry(config.kafkaClientMap(), config.modelsTopic());
    }

    /** The reference network, trained briefly on Seattle, as v1. */
    ModelUpdate publishReference() throws IOException {
      BenchSupport.publishModel(
          broker.bootstrapServers(),
          config.modelsTopic(),
          BenchSupport.referenceSpec(config.modelName()));
      return registry().serving(config.modelName()).orElseThrow();
    }

    /** The job on a mini cluster of this JVM: one task manager of four slots (all the job's). */
    void submit() throws Exception {
      cluster = BenchCluster.start(4);
      cluster.submit(config, name, null);
    }

    /** {@code forecast job} in a process of its own, restoring its checkpoints at each start. */
    BenchProcess jobProcess() throws IOException {
      Path log4j = dir.resolve("log4j2-job.xml");
      Files.writeString(
          log4j,
          """
          <Configuration status="WARN">
            <Appenders><Console name="c" target="SYSTEM_ERR">
              <PatternLayout pattern="%d{HH:mm:ss} %-5level %c{1} - %msg%n"/></Console></Appenders>
            <Loggers>
              <Logger name="org.apache.flink.runtime.executiongraph" level="info"/>
              <Logger name="org.apache.kafka.clients.NetworkClient" level="error"/>
              <Root level="warn"><AppenderRef ref="c"/></Root>
            </Loggers>
          </Configuration>
          """);
      List<String> args = new ArrayList<>(List.of("job"));
      config
          .toMap()
          .forEach(
              (k, v) -> {
                args.add("--set");
                args.add(k + "=" + v);
              });
      return BenchProcess.start(
          dir.resolve("job.log"),
          Map.of("JAVA_TOOL_OPTIONS", "-Dlog4j2.configurationFile=" + log4j),
          args.toArray(String[]::new));
    }

    /** {@code forecast trainer}: the weather preset, briefly trained, the first version forced. */
    BenchProcess trainerProcess() throws IOException {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "trainer",
                  "--preset",
                  "weather",
                  "--model-name",
                  config.modelName(),
                  "--epochs",
                  "20",
                  "--members",
                  "2",
                  "--every",
                  "6h",
                  "--publish-first",
                  "--no-drift",
                  "--retry-backoff",
                  "5s",
                  "--state-dir",
                  dir.resolve("trainer").toString()));
      args.addAll(
          TrainerCommand.kafkaFlags(
              broker.bootstrapServers(),
              config.readingsTopic(),
              config.modelsTopic(),
              config.evaluationsTopic()));
      return BenchProcess.start(
          dir.resolve("trainer.log"),
          Map.of("FORECAST_LOG_LEVEL", "info"),
          args.toArray(String[]::new));
    }

    int sentDays() {
      return sentDays;
    }

    /** Sends every series' readings day by day at the rate, calling the hook before each day. */
    void stream(DayHook hook) throws Exception {
      long interval = (long) (1e9 / rate);
      long next = System.nanoTime();
      for (int day = 0; day < days; day++) {
        hook.before(day);
        next = Math.max(next, System.nanoTime());
        for (int s = 0; s < series; s++) {
          long wait = next - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          next += interval;
          producer.send(
              ReadingsProducer.record(
                  config.readingsTopic(), BenchSupport.synthetic(seattle, s, day)),
              failures);
        }
        sentDays = day + 1;
      }
      producer.flush();
      failures.throwIfAny((long) days * series, config.readingsTopic(), broker.bootstrapServers());
      say(name, "%d readings sent", (long) days * series);
      if (cluster != null) {
        awaitOutput();
      }
    }

    Thread streamInBackground() {
      Thread t =
          new Thread(
              () -> {
                try {
                  stream(day -> {});
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              "chaos-stream");
      t.start();
      return t;
    }

    void sendRaw(String key, byte[] value) throws Exception {
      producer
          .send(
              new ProducerRecord<>(
                  config.readingsTopic(), key.getBytes(StandardCharsets.UTF_8), value))
          .get();
    }

    void sendModel(String key, ModelUpdate update) {
      try {
        producer
            .send(
                new ProducerRecord<>(
                    config.modelsTopic(),
                    key.getBytes(StandardCharsets.UTF_8),
                    Codecs.MODEL_UPDATE.encode(update)))
            .get();
      } catch (Exception e) {
        say(name, "the broker refused the update under %s: %s", key, e.getMessage());
      }
    }

    /**
     * Compacts the models topic: its segments roll after a second and the cleaner runs on them;
     * waits until the twice-written record is down to one.
     */
    void compactModels() throws Exception {
      try (Admin admin = Admin.create(config.kafkaClientMap())) {
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, config.modelsTopic());
        admin
            .incrementalAlterConfigs(
                Map.of(
                    topic,
                    List.of(
                        new AlterConfigOp(
                            new ConfigEntry("segment.ms", "1000"), AlterConfigOp.OpType.SET),
                        new AlterConfigOp(
                            new ConfigEntry("min.cleanable.dirty.ratio", "0.001"),
                            AlterConfigOp.OpType.SET))))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      String twice = ModelRegistry.key(config.modelName(), 2);
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      while (modelKeys().stream().filter(twice::equals).count() > 1) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the models topic was not compacted within 3 minutes");
        }
        Thread.sleep(1500);
        // a record rolls the segment that is due; the cleaner then compacts the rolled one
        producer
            .send(
                new ProducerRecord<>(
                    config.modelsTopic(),
                    "compaction-nudge".getBytes(StandardCharsets.UTF_8),
                    null))
            .get();
      }
    }

    private List<String> modelKeys() {
      List<String> keys = new ArrayList<>();
      try (KafkaConsumer<byte[], byte[]> c = consumer(32 * 1024 * 1024)) {
        BoundedRead.untilEndOffsets(
            c,
            config.modelsTopic(),
            Duration.ofSeconds(30),
            r -> keys.add(r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8)));
      }
      return keys;
    }

    /**
     * Waits until the committed forecasts stop growing for a minute (or cover every window), the
     * output being committed at each checkpoint.
     */
    void awaitOutput() throws Exception {
      int expected = expectedWindows();
      long stalledSince = System.nanoTime();
      int last = -1;
      while (true) {
        int now = distinctWindows(forecasts());
        if (now >= expected) {
          say(name, "all %d windows forecast", now);
          return;
        }
        if (now != last) {
          last = now;
          stalledSince = System.nanoTime();
        } else if (System.nanoTime() - stalledSince > Duration.ofSeconds(90).toNanos()) {
          say(name, "forecasts stopped at %d of %d windows", now, expected);
          return;
        }
        Thread.sleep(2000);
      }
    }

    /**
     * The line of the scenario: after two retention checks of the broker, every topic read from its
     * start, read_committed.
     */
    ObjectNode measure() throws Exception {
      awaitTwoRetentionChecks();
      List<Forecast> forecasts = forecasts();
      Map<String, Set<LocalDate>> got = new HashMap<>();
      Set<String> windows = new HashSet<>();
      for (Forecast f : forecasts) {
        got.computeIfAbsent(f.getSeriesId(), k -> new HashSet<>()).add(f.getBaseDay());
        windows.add(f.getSeriesId() + "|" + f.getBaseDay() + "|" + f.getHorizon());
      }
      int perSeries = days - readingsPerWindow() + 1;
      long missing = 0;
      for (int s = 0; s < series; s++) {
        Set<LocalDate> of = got.getOrDefault("station-" + s, Set.of());
        for (int d = days - perSeries; d < days; d++) {
          if (!of.contains(BenchSupport.DAY_ZERO.plusDays(d))) {
            missing++;
          }
        }
      }
      ObjectNode line = BenchSupport.JSON.createObjectNode();
      line.put("scenario", name);
      line.put("windows", expectedWindows());
      line.put("forecasts", forecasts.size());
      line.put("duplicates", forecasts.size() - windows.size());
      line.put("missing", missing);
      line.put("deadLetters", count(config.deadLettersTopic()));
      line.put("evaluations", count(config.evaluationsTopic()));
      line.put("jobRestarts", jobRestartsFromLog >= 0 ? jobRestartsFromLog : cluster.restarts());
      line.put("readingsOnTopic", count(config.readingsTopic()));
      line.put("unsentReadings", failures.count());
      return line;
    }

    int expectedWindows() throws Exception {
      return series * (days - readingsPerWindow() + 1);
    }

    /** Readings per window of the oldest version on the topic that loads (the first served). */
    int readingsPerWindow() throws Exception {
      List<ModelUpdate> all = new ArrayList<>(registry().readAll());
      all.sort(Comparator.comparingLong(ModelUpdate::getVersion));
      for (ModelUpdate u : all) {
        try (LoadedModel m = ModelUpdates.load(u, Device.cpu())) {
          return m.spec().readingsPerWindow();
        } catch (Exception e) {
          // not a model: the next
        }
      }
      return BenchSupport.REFERENCE_WINDOW;
    }

    List<Forecast> forecasts() throws Exception {
      List<Forecast> out = new ArrayList<>();
      try (KafkaConsumer<byte[], byte[]> c = consumer(1024 * 1024)) {
        BoundedRead.untilEndOffsets(
            c,
            config.forecastsTopic(),
            Duration.ofSeconds(60),
            r -> {
              try {
                out.add(Codecs.FORECAST.decode(r.value()));
              } catch (Exception e) {
                // not a forecast: not counted
              }
            });
      }
      return out;
    }

    private int distinctWindows(List<Forecast> forecasts) {
      Set<String> w = new HashSet<>();
      for (Forecast f : forecasts) {
        if (f.getSeriesId().startsWith("station-")) {
          w.add(f.getSeriesId() + "|" + f.getBaseDay() + "|" + f.getHorizon());
        }
      }
      return w.size();
    }

    private long count(String topic) {
      try (KafkaConsumer<byte[], byte[]> c = consumer(1024 * 1024)) {
        return BoundedRead.untilEndOffsets(c, topic, Duration.ofSeconds(60), r -> {});
      }
    }

    /**
     * Waits for the broker's retention check to run twice: a canary topic that keeps records a
     * second gets an old record, which the next check deletes (its start offset moves); the second
     * canary record goes in a check that started after the first was seen, so it covered every
     * topic.
     */
    private void awaitTwoRetentionChecks() throws Exception {
      String canary = name + "-canary";
      try (Admin admin = Admin.create(config.kafkaClientMap())) {
        admin
            .createTopics(
                List.of(
                    new org.apache.kafka.clients.admin.NewTopic(canary, 1, (short) 1)
                        .configs(Map.of("retention.ms", "1000"))))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      TopicPartition tp = new TopicPartition(canary, 0);
      for (int n = 1; n <= 2; n++) {
        producer
            .send(
                new ProducerRecord<>(
                    canary, 0, System.currentTimeMillis() - 3_600_000L, null, new byte[] {1}))
            .get();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        try (KafkaConsumer<byte[], byte[]> c = consumer(1024)) {
          while (c.beginningOffsets(List.of(tp)).get(tp) < n) {
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("no retention check within 2 minutes");
            }
            Thread.sleep(500);
          }
        }
      }
      say(name, "two retention checks have run");
    }

    private KafkaConsumer<byte[], byte[]> consumer(int fetchBytes) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(fetchBytes));
      return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public void close() throws Exception {
      producer.close(Duration.ofSeconds(10));
      if (cluster != null) {
        cluster.close();
      }
      broker.close();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
