package dev.amalgam.ledger.event;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;

/** The event table of docs/ledger.md and {@code amalgam ledger events}, derived from the event records. */
public final class EventTable {
    private EventTable() {
    }

    public static String markdown() {
        StringBuilder b = new StringBuilder("| type | payload field | JSON | meaning |\n|---|---|---|---|\n");
        for (Class<? extends LedgerEvent> c : EventCodec.types()) {
            EventType t = c.getAnnotation(EventType.class);
            b.append("| `").append(t.name()).append("` | | | ").append(t.summary()).append(" |\n");
            for (RecordComponent rc : c.getRecordComponents()) {
                Field f = rc.getAnnotation(Field.class);
                b.append("| | `").append(rc.getName()).append("` | ").append(json(rc.getGenericType())).append(" | ")
                        .append(f == null ? "" : f.value()).append(" |\n");
            }
        }
        return b.toString();
    }

    private static String json(Type t) {
        if (t == String.class) return "string";
        if (t == long.class) return "integer";
        if (t instanceof ParameterizedType p) return "array of " + json(p.getActualTypeArguments()[0]);
        if (t instanceof Class<?> c && c.isRecord()) return "objects";
        return t.getTypeName();
    }
}
