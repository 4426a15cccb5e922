package dev.forecaster.cli;

import ai.djl.translate.TranslateException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Reading;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.kafka.LocalKafkaBroker;
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
    description = "Speed benchmarks; each prints one JSON line. All run on this machine against an in-process broker on 127.0.0.1.",
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
      try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
        JobConfig scored = BenchSupport.topics(broker, "scored", parallelism, Map.of("checkpoint.interval.ms", "2000"));
        BenchSupport.publishModel(broker, scored.modelsTopic(), BenchSupport.referenceSpec("bench", 1));
        List<Reading> seattle = BenchSupport.seattle();
        long t0 = System.nanoTime();
        int days = readings / series;
        try (KafkaProducer<byte[], byte[]> producer = BenchSupport.producer(broker, true)) {
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

    @Option(names = "--seconds", defaultValue = "20", description = "Measured seconds (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--series", defaultValue = "1000", description = "Series (default: ${DEFAULT-VALUE}).")
    int series;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A job setting on top of the benchmark's; repeatable.")
    Map<String, String> settings = new java.util.LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
      PrintWriter err = spec.commandLine().getErr();
      try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
        Map<String, String> job = new java.util.LinkedHashMap<>(
            Map.of("delivery.guarantee", "at-least-once", "checkpoint.interval.ms", "5000"));
        job.putAll(settings);
        JobConfig config = BenchSupport.topics(broker, "latency", 2, job);
        BenchSupport.publishModel(broker, config.modelsTopic(), BenchSupport.referenceSpec("bench", 1));
        List<Reading> seattle = BenchSupport.seattle();
        Map<String, Long> sent = new ConcurrentHashMap<>();
        Map<String, Long> sentWall = new ConcurrentHashMap<>();
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Long> toScorer = java.util.Collections.synchronizedList(new ArrayList<>());
        int warmDays = 6;
        int days = warmDays + rate * seconds / series;
        JobClient running = ForecastJob.run(ForecastJob.localEnvironment(config), config, "latency", false);
        Thread reader = new Thread(() -> read(broker, config.forecastsTopic(), sent, sentWall, latencies, toScorer),
            "forecast-reader");
        reader.setDaemon(true);
        reader.start();
        try (KafkaProducer<byte[], byte[]> producer = BenchSupport.producer(broker, false)) {
          long interval = 1_000_000_000L / rate;
          long next = System.nanoTime();
          for (int d = 0; d < days; d++) {
            if (d == warmDays) {
              Thread.sleep(3000); // windows complete, model loaded: measure from here
              latencies.clear();
              toScorer.clear();
              next = System.nanoTime();
            }
            for (int s = 0; s < series; s++) {
              Reading r = BenchSupport.synthetic(seattle, s, d);
              long wait = next - System.nanoTime();
              if (wait > 200_000) { // park rather than spin: a spinning producer would take one of two cores
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
              }
              sent.put(r.getSeriesId() + "@" + r.getDay(), System.nanoTime());
              sentWall.put(r.getSeriesId() + "@" + r.getDay(), System.currentTimeMillis());
              producer.send(ReadingsProducer.record(config.readingsTopic(), r));
              next += interval;
            }
          }
          producer.flush();
        }
        Thread.sleep(2000);
        running.cancel().get();
        long[] sorted;
        long[] scorerSorted;
        synchronized (latencies) {
          sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        }
        synchronized (toScorer) {
          scorerSorted = toScorer.stream().mapToLong(ms -> ms * 1_000_000L).sorted().toArray();
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("rate", rate);
        out.put("checkpointIntervalMs", config.checkpointIntervalMs());
        out.put("forecasts", sorted.length);
        out.put("p50Ms", percentile(sorted, 0.50));
        out.put("p99Ms", percentile(sorted, 0.99));
        out.put("maxMs", sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6);
        // where the time goes: send -> the forecast made in the scorer (its createdAt, millisecond clock)
        out.put("toScoredP50Ms", percentile(scorerSorted, 0.50));
        out.put("toScoredP99Ms", percentile(scorerSorted, 0.99));
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

    private static void read(LocalKafkaBroker broker, String topic, Map<String, Long> sent, Map<String, Long> sentWall,
        List<Long> latencies, List<Long> toScorer) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      p.put(ConsumerConfig.GROUP_ID_CONFIG, "latency-reader");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "5");
      try (KafkaConsumer<byte[], byte[]> consumer =
          new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(topic));
        while (!Thread.currentThread().isInterrupted()) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
            long now = System.nanoTime();
            try {
              Forecast f = Codecs.FORECAST.decode(r.value());
              String key = f.getSeriesId() + "@" + f.getBaseDay();
              Long at = sent.get(key);
              if (at != null) {
                latencies.add(now - at);
                toScorer.add(f.getCreatedAt().toEpochMilli() - sentWall.get(key));
              }
            } catch (Exception e) {
              // not a forecast: not counted
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
