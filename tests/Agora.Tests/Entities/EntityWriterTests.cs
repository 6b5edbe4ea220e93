using System.Net;
using System.Net.Http.Headers;
using Agora.Tests.Discovery;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Entities;

/// Entities written from their stored text (EntityWriter) read exactly as those rendered through the JSON tree
/// (EntityOutput): the same bytes, in every representation, context and media type. A GET that names the
/// entity's type, and a query with an idPattern, take the tree path; the same requests without them take the
/// stored-text path.
public sealed class EntityWriterTests
{
    private const string Entities = """
        [
          {"id": "urn:ngsi-ld:Thing:rich", "type": ["Thing", "Device"], "scope": ["/Madrid/Centro", "/Madrid"],
           "name": {"type": "Property", "value": "Café \"Ñ\" <b> & 😀 \u0001 line\nbreak"},
           "temperature": {"type": "Property", "value": 21.5, "unitCode": "CEL", "observedAt": "2026-12-07T08:00:00Z",
             "accuracy": {"type": "Property", "value": 0.1e1},
             "measuredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:1", "objectType": "Sensor"}},
           "reading": [{"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:a"}, {"type": "Property", "value": 2}],
           "config": {"type": "Property", "value": {"mode": "eco", "levels": [1, 2, null], "nested": {"x": true}}},
           "tags": {"type": "Property", "value": ["a", "b"]},
           "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:ana"},
           "parts": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Part:1"}, {"object": "urn:ngsi-ld:Part:2"}]},
           "category": {"type": "VocabProperty", "vocab": ["Thing", "https://example.org/other"]},
           "label": {"type": "LanguageProperty", "languageMap": {"en": "Lamp", "es": "Farola"}},
           "raw": {"type": "JsonProperty", "json": {"any": ["thing", 1]}},
           "series": {"type": "ListProperty", "valueList": [3, 1, 2]},
           "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}},
           "area": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
           "kind": {"type": "Property", "value": "Device"},
           "homepage": {"type": "Property", "value": "https://example.org/things/rich"}},
          {"id": "urn:ngsi-ld:Thing:plain", "type": "Thing", "scope": "/Madrid",
           "temperature": {"type": "Property", "value": 3}}
        ]
        """;

    // A user @context: a term for the type, a vocabulary-coerced term, an @id-coerced one, and a prefix.
    private const string Terms = """
        {"Thing": "https://example.org/Thing", "Device": "https://example.org/Device", "ex": "https://example.org/",
         "temperature": "https://example.org/temperature", "kind": {"@id": "https://example.org/kind", "@type": "@vocab"},
         "homepage": {"@id": "https://example.org/homepage", "@type": "@id"}}
        """;

    [Fact]
    public async Task EveryRepresentationReadsAlikeFromTheStoredTextAndFromTheTree()
    {
        await using var app = new AgoraApplication();
        var link = await app.HostContextAsync(Terms);
        using (var client = app.CreateClient())
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/create") { Content = Json(Entities) })
        {
            request.Headers.TryAddWithoutValidation("Link", link);
            using var created = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        string[] options = ["", "options=keyValues", "options=concise", "options=sysAttrs", "options=keyValues,sysAttrs", "options=concise,sysAttrs",
            "attrs=temperature,name", "pick=id,temperature", "omit=temperature,location"];
        var failures = new List<string>();
        foreach (var (context, type) in new[] { (link, "Thing"), ((string?)null, "https://example.org/Thing") })
        {
            foreach (var accept in new[] { "application/json", "application/ld+json" })
            {
                foreach (var option in options)
                {
                    var stored = await ReadAsync(app, $"/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:rich?{option}", context, accept);
                    var tree = await ReadAsync(app, $"/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:rich?{option}&type={Uri.EscapeDataString(type)}", context, accept);
                    var storedPage = await ReadAsync(app, $"/ngsi-ld/v1/entities?type={Uri.EscapeDataString(type)}&{option}", context, accept);
                    var treePage = await ReadAsync(app, $"/ngsi-ld/v1/entities?type={Uri.EscapeDataString(type)}&idPattern=.*&{option}", context, accept);
                    if (stored != tree)
                    {
                        failures.Add($"GET one, {accept}, {option}, context {context is not null}:\n  stored {stored}\n  tree   {tree}");
                    }
                    if (storedPage != treePage)
                    {
                        failures.Add($"query, {accept}, {option}, context {context is not null}:\n  stored {storedPage}\n  tree   {treePage}");
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static async Task<string> ReadAsync(AgoraApplication app, string path, string? link, string accept)
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        if (link is not null)
        {
            request.Headers.TryAddWithoutValidation("Link", link);
        }
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return $"{response.Content.Headers.ContentType} {string.Join(",", response.Headers.TryGetValues("Link", out var links) ? links : [])} {body}";
    }
}
