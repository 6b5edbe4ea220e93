using System.Text.Json.Nodes;
using Agora.JsonLd;

namespace Agora.Registrations;

/// A stored registration as a client reads it: names compacted with the request's @context, the defaults of
/// mode and operations shown, createdAt and modifiedAt only with sysAttrs, and what distributed operations have
/// recorded of the source (status, timesSent, timesFailed, lastSuccess, lastFailure).
internal static class RegistrationOutput
{
    public static JsonObject Render(JsonObject doc, SourceStatus? status, JsonLdContext context, bool sysAttrs)
    {
        var result = new JsonObject();
        foreach (var (name, value) in doc)
        {
            switch (name)
            {
                case "createdAt" or "modifiedAt":
                    if (sysAttrs)
                    {
                        result[name] = value?.DeepClone();
                    }
                    break;
                case "information":
                    result[name] = new JsonArray([.. value!.AsArray().Select(i => (JsonNode?)Information(i!.AsObject(), context))]);
                    break;
                default:
                    // Clause 5.2.9's members keep their names; any other is an extra property, stored expanded.
                    result[RegistrationInput.Known.Contains(name) ? name : context.CompactIri(name)] = value?.DeepClone();
                    break;
            }
        }
        result["mode"] ??= "inclusive";
        result["operations"] ??= new JsonArray("federationOps");
        if (status is not null)
        {
            result["timesSent"] = status.TimesSent;
            result["timesFailed"] = status.TimesFailed;
            if (status.LastSuccess is { } success)
            {
                result["lastSuccess"] = success;
            }
            if (status.LastFailure is { } failure)
            {
                result["lastFailure"] = failure;
            }
            // ok while the latest request to the source succeeded, failed once it did not.
            result["status"] = status.LastFailure is { } f && string.CompareOrdinal(f, status.LastSuccess ?? "") > 0 ? "failed" : "ok";
        }
        return result;
    }

    private static JsonObject Information(JsonObject stored, JsonLdContext context)
    {
        var info = new JsonObject();
        foreach (var (name, value) in stored)
        {
            info[name] = name == "entities"
                ? new JsonArray([.. value!.AsArray().Select(e => (JsonNode?)Entity(e!.AsObject(), context))])
                : new JsonArray([.. value!.AsArray().Select(n => (JsonNode?)context.CompactIri((string)n!))]);
        }
        return info;
    }

    private static JsonObject Entity(JsonObject stored, JsonLdContext context)
    {
        var entity = (JsonObject)stored.DeepClone();
        entity["type"] = context.CompactIri((string)stored["type"]!);
        return entity;
    }
}
