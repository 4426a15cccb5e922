package dev.forecaster.cli;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.schemas.Topics;
import dev.forecaster.schemas.csv.CsvReadSummary;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import me.tongfei.progressbar.ProgressBar;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code forecast replay}: a daily CSV into the readings topic, in day order, at a chosen rate. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Reads a daily CSV through a column mapping and produces its readings to the readings topic"
            + " (key: series id, Avro single-object encoding), oldest day first, at --rate readings"
            + " per second.")
final class ReplayCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CsvMappingOptions csv;

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--topic",
      defaultValue = Topics.Defaults.READINGS,
      description = "Topic (default: ${DEFAULT-VALUE}); created if absent, with --partitions.")
  String topic;

  @Option(
      names = "--partitions",
      defaultValue = "" + Topics.DEFAULT_PARTITIONS,
      description = "Partitions of the topic if it is created (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description =
          "Readings per second; 0 = as fast as the broker takes them (default: ${DEFAULT-VALUE}).")
  double rate;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<Reading> readings = new ArrayList<>();
    CsvReadSummary summary = csv.reader().read(csv.csv(), readings::add);
    if (readings.isEmpty()) {
      throw new IllegalArgumentException(
          "no reading could be read from "
              + csv.csv()
              + " ("
              + summary.badRows()
              + " bad rows): check the column mapping with `forecast readings`");
    }
    readings = History.inReplayOrder(readings);
    Topics.ensure(
        kafka.clientProperties(),
        Map.of(Topics.READINGS, topic),
        partitions,
        Duration.ofSeconds(20));
    long interval = rate > 0 ? (long) (1e9 / rate) : 0;
    ReadingsProducer.Failures failures = new ReadingsProducer.Failures();
    try (KafkaProducer<byte[], byte[]> producer =
            ReadingsProducer.open(
                kafka.clientProperties(), rate > 0 ? 0 : 10, rate > 0 ? 16384 : 256 * 1024);
        ProgressBar bar = ProgressBars.of("replay", readings.size(), " readings")) {
      long next = System.nanoTime();
      for (Reading r : readings) {
        if (interval > 0) {
          long wait = next - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
          next += interval;
        }
        producer.send(ReadingsProducer.record(topic, r), failures);
        bar.step();
      }
      producer.flush();
    }
    failures.throwIfAny(readings.size(), topic, kafka.bootstrapServers());
    out.printf(
        "replayed %d readings of %d series (%s .. %s) to %s at %s; %d bad rows skipped%n",
        readings.size(),
        summary.readingsPerSeries().size(),
        summary.firstDay(),
        summary.lastDay(),
        topic,
        kafka.bootstrapServers(),
        summary.badRows());
    out.flush();
    return 0;
  }
}
