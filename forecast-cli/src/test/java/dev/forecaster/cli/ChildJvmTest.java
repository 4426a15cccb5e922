package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A forecast command in a JVM of its own, as the demo starts its trainers. */
class ChildJvmTest {

  @Test
  void aChildJvmRunsTheForecastCommandWithThisJvmsSettings() throws Exception {
    List<String> command = ChildJvm.forecast(List.of("-Xmx256m"), List.of("--version"));

    // DJL offline, one thread, the trusted Avro packages: as this JVM has them (test.jvm.args)
    assertThat(command)
        .contains(
            "-Xmx256m",
            "-Dai.djl.offline=true",
            "-Dai.djl.pytorch.num_threads=1",
            "-Dforecaster.data.dir=" + System.getProperty("forecaster.data.dir"),
            "-Dorg.apache.avro.SERIALIZABLE_PACKAGES="
                + System.getProperty("org.apache.avro.SERIALIZABLE_PACKAGES"),
            // DJL's own settings, which the tests pass as system properties, not the environment
            "-DDJL_CACHE_DIR=" + System.getProperty("DJL_CACHE_DIR"),
            "-DOPT_OUT_TRACKING=true");
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(child.exitValue()).as(output).isZero();
    assertThat(output).as(output).containsPattern("forecast \\S+");
  }
}
