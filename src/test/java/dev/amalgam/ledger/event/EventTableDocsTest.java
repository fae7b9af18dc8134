package dev.amalgam.ledger.event;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event table in docs/ledger.md is derived from the event records: keep them equal. */
class EventTableDocsTest {
    @Test
    void ledgerDocCarriesTheGeneratedEventTable() throws IOException {
        String doc = Files.readString(Path.of("docs", "ledger.md"));
        assertTrue(doc.contains(EventTable.markdown()),
                "docs/ledger.md is out of date: paste the output of 'amalgam ledger events'");
    }

    @Test
    void everyPayloadFieldIsDescribed() {
        for (var c : EventCodec.types()) {
            for (var rc : c.getRecordComponents()) {
                assertTrue(rc.isAnnotationPresent(Field.class), c.getSimpleName() + "." + rc.getName() + " has no @Field");
            }
        }
    }
}
