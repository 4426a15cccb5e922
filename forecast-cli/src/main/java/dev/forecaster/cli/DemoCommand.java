package dev.forecaster.cli;

import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.CsvReadSummary;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import dev.forecaster.trainer.CsvMappingOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code forecast demo}: the whole pipeline on this machine. What exists so far: the shipped
 * datasets are read through their presets and every reading goes through the wire format
 * (Avro single-object encoding) and back.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the pipeline on the shipped datasets on this machine.",
      "Today: reads data/ through the presets and round-trips every reading through the Avro wire format.",
      "Broker, training, the Flink job and the report join as they are built."
    })
final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    long total = 0;
    long bytes = 0;
    for (DatasetPreset preset : DatasetPreset.values()) {
      Path file = CsvMappingOptions.dataDir().resolve(preset.shippedFile());
      WireCheck check = new WireCheck();
      CsvReadSummary summary = new CsvReadingReader(preset.mapping(), BadRowPolicy.SKIP).read(file, check);
      SummaryTable.print(out, preset.mapping().toString(), summary);
      if (check.failure != null) {
        out.printf("  wire      FAILED: %s%n", check.failure);
        out.flush();
        return 1;
      }
      out.printf("  wire      %d readings encoded and decoded back unchanged, %d bytes%n", check.count, check.bytes);
      total += check.count;
      bytes += check.bytes;
    }
    out.printf("%n%d readings ready for the readings topic (%.1f bytes each on the wire).%n", total, (double) bytes / total);
    out.println("Not built yet: the local broker, training, the Flink job and the report.");
    out.flush();
    return 0;
  }

  /** Encodes each reading as it would go to Kafka and checks that it decodes back unchanged. */
  private static final class WireCheck implements java.util.function.Consumer<Reading> {
    long count;
    long bytes;
    String failure;

    @Override
    public void accept(Reading reading) {
      byte[] encoded = Codecs.READING.encode(reading);
      bytes += encoded.length;
      count++;
      try {
        if (failure == null && !Codecs.READING.decode(encoded).equals(reading)) {
          failure = "reading changed on the wire: " + reading;
        }
      } catch (RecordDecodingException e) {
        failure = e.getMessage();
      }
    }
  }
}
