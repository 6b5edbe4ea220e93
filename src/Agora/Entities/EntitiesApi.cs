using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.Federation;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;

namespace Agora.Entities;

/// The NGSI-LD entity and attribute operations (ETSI GS CIM 009 clauses 5.6 and 5.7; HTTP binding 6.4–6.7).
internal static class EntitiesApi
{
    private const string LocationIri = "https://uri.etsi.org/ngsi-ld/location";
    private static readonly string[] RetrieveParameters =
        ["attrs", "pick", "omit", "options", "format", "lang", "geometryProperty", "type", "join", "joinLevel", "local", "containedBy", "datasetId", "via"];

    public static RouteGroupBuilder MapEntities(this RouteGroupBuilder group)
    {
        group.MapPost("/entities", Create);
        group.MapGet("/entities/{id}", Retrieve);
        group.MapPut("/entities/{id}", Replace);
        group.MapPatch("/entities/{id}", Merge);
        group.MapDelete("/entities/{id}", Delete);
        group.MapPost("/entities/{id}/attrs", Append);
        group.MapPatch("/entities/{id}/attrs", UpdateAttributes);
        group.MapPatch("/entities/{id}/attrs/{attrId}", PatchAttribute);
        group.MapPut("/entities/{id}/attrs/{attrId}", ReplaceAttribute);
        group.MapDelete("/entities/{id}/attrs/{attrId}", DeleteAttribute);
        group.MapMethods("/entities", ["PUT", "PATCH"], MissingId);
        return group;
    }

    private static async Task<IResult> Create(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var doc = Input(context).Entity(body);
        var id = (string)doc["id"]!;
        var location = $"/ngsi-ld/v1/entities/{PathSegment(id)}";
        var store = tenants.GetOrCreate(tenant);
        var types = doc["type"]!.AsArray().Select(t => (string)t!).ToList();
        return await DistributedWrites.RunAsync(http, distributed, store, "createEntity", id, types, [], body, context, async left =>
        {
            foreach (var attribute in left)
            {
                doc.Remove(attribute);
            }
            var entity = EntityRows.Prepare(doc);
            await store.WriteAsync(c =>
            {
                EntityRows.Insert(c, entity);
                return true;
            });
            return TypedResults.Created(location);
        }, () => TypedResults.Created(location));
    }

    private static async Task<IResult> Retrieve(HttpContext http, TenantStores tenants, Distributed distributed, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: true);
        NgsiLdRequest.AllowParameters(http, RetrieveParameters);
        CheckId(id);
        var context = await NgsiLdRequest.ContextAsync(http);
        var representation = RepresentationQuery.Parse(http.Request.Query, context);
        var geometry = http.Request.Query["geometryProperty"] is { Count: > 0 } g ? RepresentationQuery.Expand(g.ToString(), context) : LocationIri;
        var store = tenants.Existing(tenant);
        var sources = distributed.ForRead(http, store, "retrieveEntity", "queryEntity", "queryBatch");
        var merged = sources.Count == 0 ? null
            : await DistributedReads.RetrieveAsync(http, distributed, store, sources, id, context) ?? throw EntityNotFound(id);
        // The common case is written from the stored text: no merge, no type to check, no projection to test.
        if (merged is null && mediaType != MediaTypes.GeoJson && EntityWriter.Handles(representation)
            && representation is { Pick: null, Omit: null } && !http.Request.Query.ContainsKey("type"))
        {
            var stored = store.Read(c => EntityRows.FindText(c, id)) ?? throw EntityNotFound(id);
            return new StoredEntitiesResult([stored], page: false, representation, context, mediaType);
        }
        var entity = store.Read(c =>
        {
            var doc = merged ?? EntityRows.Find(c, id) ?? throw EntityNotFound(id);
            CheckType(http, doc, context);
            CheckProjectionMatches(doc, representation, http.Request.Query.ContainsKey("attrs"));
            return mediaType == MediaTypes.GeoJson
                ? EntityOutput.Feature(doc, representation, context, geometry)
                : EntityOutput.RenderJoined(doc, representation, context, linked => EntityRows.Find(c, linked));
        });
        return new NgsiLdResult(entity, context, mediaType);
    }

    private static async Task<IResult> Replace(HttpContext http, TenantStores tenants, Distributed distributed, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var fragment = body;
        CheckBodyId(fragment, id);
        var store = tenants.Existing(tenant);
        return await DistributedWrites.RunAsync(http, distributed, store, "replaceEntity", id, null, [], fragment, context, async left =>
        {
            await store.WriteAsync(c =>
            {
                var stored = Load(c, id);
                // What proxied sources hold is theirs to replace: whatever of it this broker kept stays as it was.
                var kept = left.Where(stored.ContainsKey).ToDictionary(a => a, a => stored[a]!.DeepClone());
                var replacement = DistributedWrites.WithoutRemote(fragment, left, context);
                replacement["id"] = id;
                replacement["type"] ??= EntityOutput.Types(stored["type"]!.AsArray(), context);
                var replaced = EntityUpdates.Replace(stored, Input(context).Entity(replacement));
                foreach (var (attribute, instances) in kept)
                {
                    replaced[attribute] = instances;
                }
                EntityRows.Update(c, replaced, stored);
                return true;
            });
            return TypedResults.NoContent();
        }, TypedResults.NoContent);
    }

    private static async Task<IResult> Merge(HttpContext http, TenantStores tenants, Distributed distributed, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        var (body, context) = await NgsiLdRequest.BodyAsync(http, allowMergePatch: true);
        var input = Input(context);
        var obj = body;
        CheckBodyId(obj, id);
        var fragment = input.Fragment(obj, allowNull: true);
        var types = obj["type"] is { } t ? input.Types(t) : null;
        var scope = obj["scope"] is { } s ? EntityInput.Scope(s) : null;
        var store = tenants.Existing(tenant);
        return await DistributedWrites.RunAsync(http, distributed, store, "mergeEntity", id, null, [], obj, context, async left =>
        {
            await ChangeAsync(store, id, doc => EntityUpdates.Merge(doc, EntityMerge.Without(fragment, left), types, scope, input.Now));
            return TypedResults.NoContent();
        }, TypedResults.NoContent);
    }

    private static async Task<IResult> Delete(HttpContext http, TenantStores tenants, Distributed distributed, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        var store = tenants.Existing(tenant);
        // A delete needs no @context of its own; a 207 names registrations and entities by their full ids.
        return await DistributedWrites.RunAsync(http, distributed, store, "deleteEntity", id, null, [], null, JsonLdContext.Core, async _ =>
        {
            var deleted = await store.WriteAsync(c => EntityRows.Delete(c, id));
            return deleted ? TypedResults.NoContent() : throw EntityNotFound(id);
        }, TypedResults.NoContent);
    }

    private static async Task<IResult> Append(HttpContext http, TenantStores tenants, Distributed distributed, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        var noOverwrite = RepresentationQuery.List(http.Request.Query, "options") switch
        {
            [] => false,
            ["noOverwrite"] => true,
            var other => throw NgsiLdException.BadRequest("Invalid options", $"'{string.Join(',', other)}' is not an option of append; only noOverwrite is."),
        };
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var input = Input(context);
        var obj = body;
        CheckBodyId(obj, id);
        var fragment = input.Fragment(obj);
        var types = obj["type"] is { } t ? input.Types(t) : null;
        var scope = obj["scope"] is { } sc ? EntityInput.Scope(sc) : null;
        if (fragment.Count == 0 && types is null && scope is null)
        {
            throw NgsiLdException.BadRequest("Nothing to append", "The body names no attribute to append.");
        }
        var store = tenants.Existing(tenant);
        return await DistributedWrites.RunAsync(http, distributed, store, "appendAttrs", id, null, AttributesOf(fragment), obj, context, async left =>
        {
            var result = await ChangeAsync(store, id, doc =>
            {
                if (types is not null)
                {
                    EntityUpdates.AddTypes(doc, types);
                }
                var outcome = EntityUpdates.Append(doc, EntityMerge.Without(fragment, left), noOverwrite, input.Now);
                if (scope is not null)
                {
                    EntityUpdates.AppendScope(doc, scope, noOverwrite, outcome);
                }
                return outcome;
            });
            return UpdateOutcome(result, context);
        }, TypedResults.NoContent);
    }

    private static async Task<IResult> UpdateAttributes(HttpContext http, TenantStores tenants, Distributed distributed, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var input = Input(context);
        var obj = body;
        CheckBodyId(obj, id);
        var fragment = input.Fragment(obj, allowNull: true);
        var scope = obj["scope"] is { } sc ? EntityInput.Scope(sc) : null;
        var types = obj["type"] is { } t ? input.Types(t) : null;
        if (fragment.Count == 0 && scope is null && types is null)
        {
            throw NgsiLdException.BadRequest("No attributes", "The body names no attribute to update.");
        }
        var store = tenants.Existing(tenant);
        return await DistributedWrites.RunAsync(http, distributed, store, "updateEntity", id, null, AttributesOf(fragment), obj, context, async left =>
        {
            var result = await ChangeAsync(store, id, doc =>
            {
                var outcome = EntityUpdates.Update(doc, EntityMerge.Without(fragment, left), input.Now);
                if (types is not null)
                {
                    EntityUpdates.AddTypes(doc, types);
                }
                if (scope is not null)
                {
                    EntityUpdates.UpdateScope(doc, scope, outcome);
                }
                return outcome;
            });
            return UpdateOutcome(result, context);
        }, TypedResults.NoContent);
    }

    private static async Task<IResult> PatchAttribute(HttpContext http, TenantStores tenants, Distributed distributed, string id, string attrId)
    {
        (id, attrId) = (NgsiLdRequest.PathValue(id), NgsiLdRequest.PathValue(attrId));
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        var (body, context) = await NgsiLdRequest.BodyAsync(http, allowMergePatch: true);
        var input = Input(context);
        var iri = input.ExpandName(attrId);
        if (body is JsonObject { Count: 0 })
        {
            throw NgsiLdException.BadRequest("Empty fragment", "A partial attribute update needs at least one member to change.");
        }
        var instances = input.Attribute(attrId, body, partial: true);
        return await AttributeWriteAsync(http, distributed, tenants.Existing(tenant), "updateAttrs", id, iri, context,
            doc => EntityUpdates.PatchAttribute(doc, iri, attrId, instances, input.Now), body);
    }

    private static async Task<IResult> ReplaceAttribute(HttpContext http, TenantStores tenants, Distributed distributed, string id, string attrId)
    {
        (id, attrId) = (NgsiLdRequest.PathValue(id), NgsiLdRequest.PathValue(attrId));
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        if (attrId == "scope")
        {
            throw NgsiLdException.BadRequest("Not an attribute", "scope is not an attribute; replace it with PATCH on the entity or through the attrs operations.");
        }
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var input = Input(context);
        var iri = input.ExpandName(attrId);
        var instances = input.Attribute(attrId, body);
        return await AttributeWriteAsync(http, distributed, tenants.Existing(tenant), "replaceAttrs", id, iri, context,
            doc => EntityUpdates.ReplaceAttribute(doc, iri, attrId, instances, input.Now), body);
    }

    private static async Task<IResult> DeleteAttribute(HttpContext http, TenantStores tenants, Distributed distributed, string id, string attrId)
    {
        (id, attrId) = (NgsiLdRequest.PathValue(id), NgsiLdRequest.PathValue(attrId));
        var tenant = NgsiLdRequest.Tenant(http);
        CheckId(id);
        var context = await NgsiLdRequest.ContextAsync(http);
        var iri = attrId == "scope" ? "scope" : RepresentationQuery.Expand(attrId, context);
        var datasetId = http.Request.Query["datasetId"].ToString() is { Length: > 0 } d ? d : null;
        if (datasetId is not null)
        {
            Names.CheckUri(datasetId, "datasetId");
        }
        var deleteAll = http.Request.Query["deleteAll"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            var other => throw NgsiLdException.BadRequest("Invalid deleteAll", $"deleteAll must be true or false, not '{other}'."),
        };
        var now = EntityInput.Timestamp(DateTimeOffset.UtcNow);
        return await AttributeWriteAsync(http, distributed, tenants.Existing(tenant), "deleteAttrs", id, iri, context,
            doc => EntityUpdates.DeleteAttribute(doc, iri, attrId, datasetId, deleteAll, now));
    }

    // The entity id is part of the path of these operations; without it the request cannot be understood.
    private static IResult MissingId() =>
        throw NgsiLdException.BadRequest("Missing entity id", "This operation needs an entity id in its path: /ngsi-ld/v1/entities/{entityId}.");

    // An operation on one attribute: sent whole (with its body, if any) to the sources that hold the attribute,
    // and done locally on the entity.
    private static Task<IResult> AttributeWriteAsync(HttpContext http, Distributed distributed, TenantStore store, string operation,
        string id, string iri, JsonLdContext context, Action<JsonObject> change, JsonObject? body = null) =>
        DistributedWrites.RunAsync(http, distributed, store, operation, id, null, [iri], null, context, async _ =>
        {
            await ChangeAsync(store, id, change);
            return TypedResults.NoContent();
        }, TypedResults.NoContent, body);

    // The expanded names of a fragment's attributes.
    private static List<string> AttributesOf(JsonObject fragment) => [.. fragment.Select(p => p.Key)];

    private static EntityInput Input(JsonLdContext context) => new(context, EntityInput.Timestamp(DateTimeOffset.UtcNow));

    private static JsonObject Load(DbConnection c, string id) => EntityRows.Find(c, id) ?? throw EntityNotFound(id);

    // Most operations load the entity, change it in place and store it back, as one write.
    private static Task<T> ChangeAsync<T>(TenantStore store, string id, Func<JsonObject, T> change) =>
        store.WriteAsync(c =>
        {
            var doc = Load(c, id);
            var result = change(doc);
            EntityRows.Update(c, doc);
            return result;
        });

    private static Task ChangeAsync(TenantStore store, string id, Action<JsonObject> change) =>
        ChangeAsync(store, id, doc =>
        {
            change(doc);
            return true;
        });

    private static IResult UpdateOutcome(UpdateResult result, JsonLdContext context)
    {
        if (result.NotUpdated.Count == 0)
        {
            return TypedResults.NoContent();
        }
        var body = new JsonObject
        {
            ["updated"] = new JsonArray([.. result.Updated.Distinct().Select(a => (JsonNode?)JsonValue.Create(context.CompactIri(a)))]),
            ["notUpdated"] = new JsonArray([.. result.NotUpdated.Select(n => (JsonNode?)new JsonObject
            {
                ["attributeName"] = context.CompactIri(n.Attribute),
                ["reason"] = n.Reason,
            })]),
        };
        return new NgsiLdResult(body, context, MediaTypes.Json, 207);
    }

    // A projection that leaves nothing of the entity to show answers as if the entity were not there
    // (clause 5.7.1): attrs naming none of its attributes, a pick matching nothing, an omit of everything.
    private static void CheckProjectionMatches(JsonObject doc, Representation r, bool byAttrs)
    {
        if (r.Pick is null && r.Omit is null)
        {
            return;
        }
        var members = doc.Select(p => p.Key).Where(k => k is not ("createdAt" or "modifiedAt")).ToList();
        var shown = members.Where(k => (r.Pick is null || r.Pick.Contains(k)) && (r.Omit is null || !r.Omit.Contains(k))).ToList();
        var attributesShown = shown.Any(k => k.Contains(':') && k is not ("id" or "type" or "scope"));
        if (shown.Count == 0 || (byAttrs && !attributesShown))
        {
            throw NgsiLdException.NotFound("Nothing to show", $"Entity {doc["id"]} has none of the requested attributes.");
        }
    }

    // An id as a path segment: characters a segment may hold (RFC 3986 pchar, ':' included, so URNs stay
    // readable as peers return them) are kept, everything else is percent-encoded.
    internal static string PathSegment(string id)
    {
        var builder = new System.Text.StringBuilder(id.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(id))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || "-._~!$&'()*+,;=:@".Contains(c)))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    private static void CheckId(string id) => Names.CheckUri(id, "entity id");

    private static void CheckBodyId(JsonObject body, string id)
    {
        if (body["id"] is { } bodyId && EntityInput.Id(bodyId) != id)
        {
            throw NgsiLdException.BadRequest("Conflicting id", $"The body's id {bodyId} is not the id in the path, {id}.");
        }
    }

    private static void CheckType(HttpContext http, JsonObject doc, JsonLdContext context)
    {
        var wanted = http.Request.Query["type"].ToString();
        if (wanted.Length > 0 && !doc["type"]!.AsArray().Any(t => (string)t! == RepresentationQuery.Expand(wanted, context)))
        {
            throw EntityNotFound((string)doc["id"]!);
        }
    }

    private static NgsiLdException EntityNotFound(string id) => NgsiLdException.NotFound("Entity not found", $"No entity with id {id}.");
}
