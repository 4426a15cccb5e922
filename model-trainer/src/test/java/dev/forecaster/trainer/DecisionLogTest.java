package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecisionLogTest {

  @TempDir Path dir;

  private static RoundRecord round(String finishedAt, String decision) {
    return RoundRecord.builder()
        .startedAt("2026-11-25T00:00:00Z")
        .finishedAt(finishedAt)
        .trigger("schedule")
        .reason("test")
        .modelName("weather")
        .decision(decision)
        .build();
  }

  @Test
  void aTornLastLineIsSkippedAndTheNextRecordStillReadsBack() throws Exception {
    DecisionLog log = new DecisionLog(dir.resolve("decisions.jsonl"));
    log.append(round("2026-11-25T01:00:00Z", "published"));
    // a crash in the middle of the next write
    Files.writeString(
        log.file(), "{\"startedAt\":\"20", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    log.append(round("2026-11-25T02:00:00Z", "kept_champion"));

    assertThat(log.readAll())
        .extracting(RoundRecord::decision)
        .containsExactly("published", "kept_champion");
    assertThat(log.lastFinished()).contains(Instant.parse("2026-11-25T02:00:00Z"));
  }

  @Test
  void noFileIsNoRound() {
    DecisionLog log = new DecisionLog(dir.resolve("none.jsonl"));
    assertThat(log.readAll()).isEmpty();
    assertThat(log.lastFinished()).isEmpty();
  }
}
