package dev.forecaster.cli;

import ai.djl.translate.TranslateException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Reading;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.model.BatchedPredictor;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.trainer.History;
import dev.forecaster.trainer.NetworkTrainer;
import dev.forecaster.trainer.Sample;
import dev.forecaster.trainer.Samples;
import dev.forecaster.trainer.ScalingFit;
import dev.forecaster.trainer.TrainingSettings;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code forecast bench}: the speed benchmarks quoted in docs/BENCHMARKS.md. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Speed benchmarks; each prints one JSON line. All run on this machine against a Kafka broker on 127.0.0.1 "
        + "(in-process; latency --broker process: a JVM of its own).",
    subcommands = {BenchCommand.Scoring.class, BenchCommand.Pipeline.class, BenchCommand.Latency.class})
final class BenchCommand {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Batched against one-window-at-a-time scoring through the job's predictor. */
  @Command(name = "scoring", mixinStandardHelpOptions = true,
      description = "Windows per second through BatchedPredictor at batch 1 and at --batch, one PyTorch thread.")
  static final class Scoring implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--batch", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--members", defaultValue = "1", description = "Networks averaged in the model (default: ${DEFAULT-VALUE}).")
    int members;

    @Option(names = "--seconds", defaultValue = "5", description = "Measuring time per batch size (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Override
    public Integer call() throws Exception {
      ModelSpec template = BenchSupport.referenceSpec("bench", members);
      List<Sample> samples = Samples.of(History.of(BenchSupport.seattle()), template);
      ModelSpec fitted = template.withScaling(ScalingFit.fit(template, samples));
      NetworkTrainer.Result trained = NetworkTrainer.train(fitted, new TrainingSettings(1, 0.01, 64, 0, 42, "mse", 0, false),
          samples, samples.subList(0, 64), e -> { });
      try (LoadedModel model = trained.model(); BatchedPredictor predictor = model.newPredictor()) {
        int fpw = model.encoder().floatsPerWindow();
        float[] encoded = new float[batch * fpw];
        double[] base = new double[batch];
        for (int i = 0; i < batch; i++) {
          Sample s = samples.get(i % samples.size());
          model.encoder().encode(s.values(), s.epochDays(), encoded, i * fpw);
          base[i] = s.baseValue();
        }
        double single = rate(predictor, encoded, base, 1);
        double batched = rate(predictor, encoded, base, batch);
        ObjectNode out = JSON.createObjectNode();
        out.put("batch1PerSecond", Math.round(single));
        out.put("batch" + batch + "PerSecond", Math.round(batched));
        out.put("speedup", Math.round(batched / single * 10) / 10.0);
        out.put("members", members);
        spec.commandLine().getOut().println(out);
      }
      return 0;
    }

    private double rate(BatchedPredictor predictor, float[] encoded, double[] base, int n) throws TranslateException {
      double[] out = new double[n];
      long warm = System.nanoTime() + 1_000_000_000L;
      while (System.nanoTime() < warm) {
        predictor.predict(encoded, base, n, out);
      }
      long windows = 0;
      long start = System.nanoTime();
      long end = start + seconds * 1_000_000_000L;
      while (System.nanoTime() < end) {
        predictor.predict(encoded, base, n, out);
        windows += n;
      }
      return windows / ((System.nanoTime() - start) / 1e9);
    }
  }

  /** The whole job, with and without scoring, over the same readings in Kafka. */
  @Command(name = "pipeline", mixinStandardHelpOptions = true,
      description = "Readings per second through the whole job (exactly-once) with scoring and with scoring switched off.")
  static final class Pipeline implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--series", defaultValue = "10000", description = "Series (default: ${DEFAULT-VALUE}).")
    int series;

    @Option(names = "--readings", defaultValue = "1000000", description = "Readings in all (default: ${DEFAULT-VALUE}).")
    int readings;

    @Option(names = "--parallelism", defaultValue = "2", description = "Job parallelism and partitions (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--rounds", defaultValue = "2", description = "Runs of each job, alternating; the best of each counts (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
      PrintWriter err = spec.commandLine().getErr();
      try (BenchBroker broker = BenchBroker.inProcess()) {
        JobConfig scored = BenchSupport.topics(broker, "scored", parallelism, Map.of("checkpoint.interval.ms", "2000"));
        BenchSupport.publishModel(broker.bootstrapServers(), scored.modelsTopic(), BenchSupport.referenceSpec("bench", 1));
        List<Reading> seattle = BenchSupport.seattle();
        long t0 = System.nanoTime();
        int days = readings / series;
        try (KafkaProducer<byte[], byte[]> producer = ReadingsProducer.open(broker.bootstrapServers(), 20, 512 * 1024)) {
          for (int d = 0; d < days; d++) {
            for (int s = 0; s < series; s++) {
              producer.send(ReadingsProducer.record(scored.readingsTopic(), BenchSupport.synthetic(seattle, s, d)));
            }
          }
          producer.flush();
        }
        err.printf("produced %d readings in %.1f s%n", days * series, (System.nanoTime() - t0) / 1e9);
        double without = 0;
        double withScoring = 0;
        for (int round = 1; round <= rounds; round++) { // alternating, so warm-up and noise hit both
          without = Math.max(without, run(unscored(scored, round), "unscored", err, days * series));
          withScoring = Math.max(withScoring, run(scored.with("group.id", "scored-" + round)
              .with("transactional.id.prefix", "scored-" + round), "scored", err, days * series));
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("scoredPerSecond", Math.round(withScoring));
        out.put("unscoredPerSecond", Math.round(without));
        out.put("ratio", Math.round(withScoring / without * 1000) / 1000.0);
        out.put("readings", days * series);
        out.put("series", series);
        out.put("parallelism", parallelism);
        spec.commandLine().getOut().println(out);
      }
      return 0;
    }

    /** The same job on the same readings with only the forward pass switched off. */
    private static JobConfig unscored(JobConfig scored, int round) {
      return scored.with("scoring.enabled", "false").with("group.id", "unscored-" + round)
          .with("transactional.id.prefix", "unscored-" + round);
    }

    private static double run(JobConfig config, String name, PrintWriter err, long readings) throws Exception {
      long start = System.nanoTime();
      JobClient job = ForecastJob.run(ForecastJob.localEnvironment(config), config, name, true);
      job.getJobExecutionResult().get();
      double seconds = (System.nanoTime() - start) / 1e9;
      err.printf("%s: %d readings in %.1f s (job start included)%n", name, readings, seconds);
      err.flush();
      return readings / seconds;
    }
  }

  /** Reading-to-forecast latency at a steady rate, at-least-once. */
  @Command(name = "latency", mixinStandardHelpOptions = true,
      description = "p50/p99 from a reading's send to its forecast's arrival, at a steady rate, at-least-once delivery.")
  static final class Latency implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--rate", defaultValue = "5000", description = "Readings per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--seconds", defaultValue = "60", description = "Measured seconds (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--series", defaultValue = "1000", description = "Series (default: ${DEFAULT-VALUE}).")
    int series;

    @Option(names = "--broker", paramLabel = "in-process|process", defaultValue = "in-process",
        description = "The broker in a JVM of its own, as in production, or in the job's (default: ${DEFAULT-VALUE}).")
    String brokerMode;

    @Option(names = "--warmup-seconds", defaultValue = "30", description = "Seconds at the rate before measuring: windows fill, the JIT compiles (default: ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = "--producer-linger-ms", defaultValue = "0", description = "linger.ms of the readings producer; part of the measured time (default: ${DEFAULT-VALUE}).")
    int producerLingerMs;

    @Option(names = "--reader-fetch-min-bytes", defaultValue = "1", description = "fetch.min.bytes of the forecasts reader, which waits at most 5 ms for them (default: ${DEFAULT-VALUE}).")
    int readerFetchMinBytes;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A job setting on top of the benchmark's; repeatable.")
    Map<String, String> settings = new java.util.LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
      PrintWriter err = spec.commandLine().getErr();
      if (!brokerMode.equals("process") && !brokerMode.equals("in-process")) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--broker is process or in-process");
      }
      try (BenchBroker broker = brokerMode.equals("process") ? BenchBroker.separateProcess() : BenchBroker.inProcess()) {
        Map<String, String> job = new java.util.LinkedHashMap<>(
            Map.of("delivery.guarantee", "at-least-once", "checkpoint.interval.ms", "5000"));
        job.putAll(settings);
        JobConfig config = BenchSupport.topics(broker, "latency", 2, job);
        BenchSupport.publishModel(broker.bootstrapServers(), config.modelsTopic(), BenchSupport.referenceSpec("bench", 1));
        List<Reading> seattle = BenchSupport.seattle();
        int warmDays = Math.max(6, rate * warmupSeconds / series);
        int days = warmDays + rate * seconds / series;
        // one slot per reading (day x series) in flat arrays: the harness allocates nothing per
        // record, so that its own garbage does not show up as the job's latency
        Sends sends = new Sends(days, series);
        JobClient running = ForecastJob.run(ForecastJob.localEnvironment(config), config, "latency", false);
        Thread reader = new Thread(() -> read(broker, config.forecastsTopic(), readerFetchMinBytes, sends),
            "forecast-reader");
        reader.setDaemon(true);
        reader.start();
        // every record encoded before the clock starts: the loop below only paces and sends
        List<org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int d = 0; d < days; d++) {
          for (int s = 0; s < series; s++) {
            records.add(ReadingsProducer.record(config.readingsTopic(), BenchSupport.synthetic(seattle, s, d)));
          }
        }
        try (KafkaProducer<byte[], byte[]> producer = ReadingsProducer.open(broker.bootstrapServers(),
            producerLingerMs, 16384)) {
          long interval = 1_000_000_000L / rate;
          long next = System.nanoTime();
          for (int d = 0; d < days; d++) {
            if (d == warmDays) { // windows complete, model loaded, code compiled: measure from here
              next = System.nanoTime();
            }
            for (int s = 0; s < series; s++) {
              long wait = next - System.nanoTime();
              if (wait > 0) { // park, never spin: a spinning producer would take one of the two cores
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
              }
              sends.sent(d, s, System.nanoTime(), System.currentTimeMillis());
              producer.send(records.get(d * series + s));
              next += interval;
            }
          }
          producer.flush();
        }
        Thread.sleep(2000);
        running.cancel().get();
        reader.interrupt();
        reader.join(5000);

        long measuredFrom = sends.sentAt[warmDays * series];
        long[] sorted = sends.measured(warmDays, sends.latency);
        long[] scorerSorted = sends.measured(warmDays, sends.toScored);
        java.util.Arrays.sort(sorted);
        java.util.Arrays.sort(scorerSorted);
        ObjectNode out = JSON.createObjectNode();
        out.put("rate", rate);
        out.put("broker", brokerMode);
        out.put("producerLingerMs", producerLingerMs);
        out.put("readerFetchMinBytes", readerFetchMinBytes);
        out.put("job", JSON.valueToTree(job));
        out.put("checkpointIntervalMs", config.checkpointIntervalMs());
        out.put("sent", (long) (days - warmDays) * series);
        out.put("forecasts", sorted.length);
        out.put("p50Ms", percentile(sorted, 0.50));
        out.put("p99Ms", percentile(sorted, 0.99));
        out.put("maxMs", sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6);
        // where the time goes: send -> the forecast made in the scorer (its createdAt, millisecond clock)
        out.put("toScoredP50Ms", percentile(scorerSorted, 0.50));
        out.put("toScoredP99Ms", percentile(scorerSorted, 0.99));
        // per second of sending: the p99 of the readings sent in it (a stall shows as one bad second)
        java.util.TreeMap<Long, List<Long>> bySecond = new java.util.TreeMap<>();
        for (int i = warmDays * series; i < sends.sentAt.length; i++) {
          if (sends.latency[i] >= 0) {
            bySecond.computeIfAbsent((sends.sentAt[i] - measuredFrom) / 1_000_000_000L, k -> new ArrayList<>())
                .add(sends.latency[i]);
          }
        }
        var perSecond = out.putArray("p99BySecondMs");
        bySecond.values().forEach(l -> perSecond.add(percentile(l.stream().mapToLong(Long::longValue).sorted()
            .toArray(), 0.99)));
        spec.commandLine().getOut().println(out);
        err.flush();
      }
      return 0;
    }

    private static double percentile(long[] sorted, double q) {
      if (sorted.length == 0) {
        return Double.NaN;
      }
      return Math.round(sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1e5) / 10.0;
    }

    /** Send times and latencies of every reading, by day and series; -1 until its forecast arrived. */
    static final class Sends {
      final int series;
      final long[] sentAt;
      final long[] sentWall;
      final long[] latency;
      final long[] toScored;

      Sends(int days, int series) {
        this.series = series;
        sentAt = new long[days * series];
        sentWall = new long[days * series];
        latency = new long[days * series];
        toScored = new long[days * series];
        java.util.Arrays.fill(latency, -1);
        java.util.Arrays.fill(toScored, -1);
      }

      void sent(int day, int s, long nanos, long wallMs) {
        sentAt[day * series + s] = nanos;
        sentWall[day * series + s] = wallMs;
      }

      /** The forecast from series {@code s}'s reading of {@code day} arrived at {@code nanos}. */
      void arrived(int day, int s, long nanos, long createdAtMs) {
        int i = day * series + s;
        if (i >= 0 && i < sentAt.length && sentAt[i] != 0 && latency[i] < 0) {
          toScored[i] = (createdAtMs - sentWall[i]) * 1_000_000L;
          latency[i] = nanos - sentAt[i]; // written last: the reader's mark that the slot is complete
        }
      }

      long[] measured(int fromDay, long[] values) {
        return java.util.Arrays.stream(values, fromDay * series, values.length).filter(v -> v >= 0).toArray();
      }
    }

    private static void read(BenchBroker broker, String topic, int fetchMinBytes, Sends sends) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      p.put(ConsumerConfig.GROUP_ID_CONFIG, "latency-reader");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5");
      p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, Integer.toString(fetchMinBytes));
      java.time.LocalDate day0 = java.time.LocalDate.of(2020, 1, 1);
      try (KafkaConsumer<byte[], byte[]> consumer =
          new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(topic));
        while (!Thread.currentThread().isInterrupted()) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
            long now = System.nanoTime();
            try {
              Forecast f = Codecs.FORECAST.decode(r.value());
              int s = Integer.parseInt(f.getSeriesId().substring("station-".length()));
              sends.arrived((int) (f.getBaseDay().toEpochDay() - day0.toEpochDay()), s, now,
                  f.getCreatedAt().toEpochMilli());
            } catch (Exception e) {
              // not a forecast of this benchmark: not counted
            }
          }
        }
      } catch (org.apache.kafka.common.errors.InterruptException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private BenchCommand() {}
}
