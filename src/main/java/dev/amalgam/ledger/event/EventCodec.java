package dev.amalgam.ledger.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one codec between ledger events and entry JSON. A payload field is a record component of the
 * same name; text is a JSON string or null, {@code long} a JSON integer, a list of records an array of
 * objects. Decoding is strict: an unknown type, an unknown or missing-but-required field, or a value of
 * the wrong JSON type is a {@link LedgerFormatException} naming the entry and field. Absent text fields
 * decode as null (the records' constructors supply the defaults old entries relied on).
 */
public final class EventCodec {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Map<String, Class<? extends LedgerEvent>> BY_NAME = byName();

    private EventCodec() {
    }

    /** Every event type, in declaration order of {@link LedgerEvent}'s permits clause. */
    @SuppressWarnings("unchecked")
    public static List<Class<? extends LedgerEvent>> types() {
        List<Class<? extends LedgerEvent>> out = new ArrayList<>();
        for (Class<?> c : LedgerEvent.class.getPermittedSubclasses()) out.add((Class<? extends LedgerEvent>) c);
        return List.copyOf(out);
    }

    public static String typeName(Class<? extends LedgerEvent> type) {
        return type.getAnnotation(EventType.class).name();
    }

    public static String typeName(LedgerEvent event) {
        return typeName(event.getClass());
    }

    /** The entry payload of an event. */
    public static ObjectNode payload(LedgerEvent event) {
        return (ObjectNode) encode(event);
    }

    /** The event an entry's {@code type} and {@code payload} describe. */
    public static LedgerEvent decode(String type, JsonNode payload) {
        Class<? extends LedgerEvent> c = BY_NAME.get(type);
        if (c == null) throw new LedgerFormatException("unknown event type '" + type + "' (known: " + BY_NAME.keySet() + ")");
        if (payload == null || !payload.isObject()) throw new LedgerFormatException(type + ": the payload must be a JSON object");
        return (LedgerEvent) decodeRecord(c, payload, type);
    }

    /** A whole entry: envelope and event. */
    public static LedgerEntry decodeEntry(JsonNode entry) {
        if (entry == null || !entry.isObject()) throw new LedgerFormatException("a ledger entry must be a JSON object");
        for (String k : List.of("seq", "type", "timestamp", "actor", "payload", "prev")) {
            if (!entry.has(k)) throw new LedgerFormatException("ledger entry without '" + k + "'");
        }
        if (!entry.get("seq").canConvertToExactIntegral()) throw new LedgerFormatException("ledger entry: 'seq' must be an integer");
        long seq = entry.get("seq").asLong();
        Set<String> extra = names(entry);
        extra.removeAll(Set.of("seq", "type", "timestamp", "actor", "payload", "prev"));
        if (!extra.isEmpty()) throw new LedgerFormatException("ledger entry " + seq + ": unknown fields " + extra);
        try {
            return new LedgerEntry(seq, text(entry, "timestamp"), text(entry, "actor"), text(entry, "prev"),
                    decode(entry.get("type").asText(), entry.get("payload")));
        } catch (LedgerFormatException e) {
            throw new LedgerFormatException("ledger entry " + seq + ": " + e.getMessage());
        }
    }

    /** The JSON form of any value the events hold (a record, a list of records, text, a number). */
    public static JsonNode encode(Object value) {
        return switch (value) {
            case null -> NODES.nullNode();
            case String s -> NODES.textNode(s);
            case Long l -> NODES.numberNode(l);
            case Boolean b -> NODES.booleanNode(b);
            case List<?> list -> {
                ArrayNode a = NODES.arrayNode();
                for (Object o : list) a.add(encode(o));
                yield a;
            }
            case Record r -> {
                ObjectNode o = NODES.objectNode();
                for (RecordComponent rc : r.getClass().getRecordComponents()) {
                    try {
                        Object v = rc.getAccessor().invoke(r);
                        Field f = rc.getAnnotation(Field.class);
                        if (v == null && f != null && f.optional()) continue;
                        o.set(rc.getName(), encode(v));
                    } catch (IllegalAccessException | InvocationTargetException e) {
                        throw new IllegalStateException(e);
                    }
                }
                yield o;
            }
            default -> throw new IllegalArgumentException("ledger events hold no " + value.getClass().getSimpleName());
        };
    }

    private static Object decodeRecord(Class<?> c, JsonNode n, String where) {
        if (!n.isObject()) throw new LedgerFormatException(where + " must be a JSON object");
        RecordComponent[] rcs = c.getRecordComponents();
        Set<String> unknown = names(n);
        Object[] args = new Object[rcs.length];
        for (int i = 0; i < rcs.length; i++) {
            RecordComponent rc = rcs[i];
            unknown.remove(rc.getName());
            JsonNode value = n.get(rc.getName());
            Field f = rc.getAnnotation(Field.class);
            boolean absent = value == null || value.isNull();
            args[i] = absent && f != null && f.optional() && !rc.getType().isPrimitive() ? null
                    : decodeValue(rc.getGenericType(), value, where + "." + rc.getName());
        }
        if (!unknown.isEmpty()) throw new LedgerFormatException(where + ": unknown fields " + unknown);
        try {
            Constructor<?> k = c.getDeclaredConstructor(Arrays.stream(rcs).map(RecordComponent::getType).toArray(Class<?>[]::new));
            return k.newInstance(args);
        } catch (InvocationTargetException e) {
            throw new LedgerFormatException(where + ": " + e.getCause().getMessage());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object decodeValue(Type t, JsonNode v, String where) {
        if (t == String.class) {
            if (v == null || v.isNull()) return null;
            if (!v.isTextual()) throw new LedgerFormatException(where + " must be text, got " + v.getNodeType());
            return v.asText();
        }
        if (t == long.class) {
            if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
                throw new LedgerFormatException(where + " must be an integer, got " + (v == null ? "nothing" : v.getNodeType()));
            }
            return v.asLong();
        }
        if (t == Long.class) {
            if (v == null || v.isNull()) return null;
            if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new LedgerFormatException(where + " must be an integer, got " + v.getNodeType());
            return v.asLong();
        }
        if (t == boolean.class) {
            if (v == null || !v.isBoolean()) throw new LedgerFormatException(where + " must be true or false, got " + (v == null ? "nothing" : v.getNodeType()));
            return v.asBoolean();
        }
        if (t instanceof ParameterizedType p && p.getRawType() == List.class) {
            if (v == null || v.isNull()) return null;
            if (!v.isArray()) throw new LedgerFormatException(where + " must be an array, got " + v.getNodeType());
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) out.add(decodeValue(p.getActualTypeArguments()[0], v.get(i), where + "[" + i + "]"));
            return out;
        }
        if (t instanceof Class<?> c && c.isRecord()) {
            if (v == null) throw new LedgerFormatException(where + " is missing");
            return decodeRecord(c, v, where);
        }
        throw new IllegalStateException("no codec for " + t);
    }

    private static Set<String> names(JsonNode n) {
        Set<String> s = new HashSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }

    private static String text(JsonNode n, String k) {
        JsonNode v = n.get(k);
        if (!v.isTextual()) throw new LedgerFormatException("'" + k + "' must be text");
        return v.asText();
    }

    private static Map<String, Class<? extends LedgerEvent>> byName() {
        Map<String, Class<? extends LedgerEvent>> m = new LinkedHashMap<>();
        for (Class<? extends LedgerEvent> c : types()) {
            if (m.put(typeName(c), c) != null) throw new IllegalStateException("two event types named " + typeName(c));
        }
        return m;
    }
}
