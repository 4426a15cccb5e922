package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/CONFIGURATION.md lists exactly the job's options, with their defaults and descriptions.
 * {@code ./mvnw -pl flink-job test -Dtest=ConfigurationDocTest -Dforecaster.docs.update=true}
 * rewrites the table from the options.
 */
class ConfigurationDocTest {

  private static final String START =
      "<!-- options: generated from JobOptions; ConfigurationDocTest checks it -->\n";
  private static final String END = "<!-- end of options -->";

  @Test
  void theDocumentedTableIsTheOptionsTable() throws Exception {
    Path root = Path.of(System.getProperty("forecaster.data.dir", "../data")).getParent();
    Path file = root.resolve("docs/CONFIGURATION.md");
    String doc = Files.readString(file);
    String expected = JobOptions.markdownTable();
    if (Boolean.getBoolean("forecaster.docs.update") && doc.contains(START) && doc.contains(END)) {
      doc =
          doc.substring(0, doc.indexOf(START) + START.length())
              + expected
              + doc.substring(doc.indexOf(END));
      Files.writeString(file, doc);
    }
    Path written = Path.of("target", "CONFIGURATION-options.md");
    Files.createDirectories(written.getParent());
    Files.writeString(written, expected);

    assertThat(doc).as("docs/CONFIGURATION.md has the options markers").contains(START, END);
    String documented = doc.substring(doc.indexOf(START) + START.length(), doc.indexOf(END));
    assertThat(documented)
        .as("the table in docs/CONFIGURATION.md; the current one is in flink-job/" + written)
        .isEqualTo(expected);
  }
}
