using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

public sealed class RepresentationTests
{
    private const string Id = "urn:ngsi-ld:Building:1";
    private const string CoreContext = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

    private const string Building = """
        {
          "id": "urn:ngsi-ld:Building:1",
          "type": "Building",
          "temperature": {"type": "Property", "value": 21, "unitCode": "CEL"},
          "humidity": {"type": "Property", "value": 40},
          "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
          "street": {"type": "LanguageProperty", "languageMap": {"en": "Main street", "fr": "Rue principale", "de": "Hauptstraße"}},
          "position": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.17, 41.38]}},
          "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}}
        }
        """;

    private static async Task<AgoraApplication> WithBuildingAsync()
    {
        var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        return app;
    }

    [Fact]
    public async Task AttrsReturnsOnlyTheNamedAttributesWithIdAndType()
    {
        await using var app = await WithBuildingAsync();

        var entity = await app.RetrieveAsync(Id, "?attrs=temperature,owner");

        JsonEqual("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building",
             "temperature": {"type": "Property", "value": 21, "unitCode": "CEL"},
             "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}}
            """, entity);
    }

    [Fact]
    public async Task PickReturnsOnlyThePickedMembers()
    {
        await using var app = await WithBuildingAsync();

        var entity = await app.RetrieveAsync(Id, "?pick=id,humidity");

        JsonEqual("""{"id": "urn:ngsi-ld:Building:1", "humidity": {"type": "Property", "value": 40}}""", entity);
    }

    [Fact]
    public async Task OmitLeavesOutTheOmittedMembers()
    {
        await using var app = await WithBuildingAsync();

        var entity = await app.RetrieveAsync(Id, "?omit=type,street,position,location,owner");

        JsonEqual("""
            {"id": "urn:ngsi-ld:Building:1",
             "temperature": {"type": "Property", "value": 21, "unitCode": "CEL"},
             "humidity": {"type": "Property", "value": 40}}
            """, entity);
    }

    [Theory]
    [InlineData("?attrs=temperature&pick=humidity")]
    [InlineData("?pick=humidity,temperature&omit=temperature")]
    [InlineData("?pick=humidity{")]
    [InlineData("?omit=,humidity")]
    [InlineData("?attrs=temperature,,humidity")]
    [InlineData("?lang=fr;q=2")]
    public async Task ConflictingOrMalformedRepresentationParametersAreRejected(string query)
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(EntityPath(Id) + query);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("?options=fancy")]
    [InlineData("?format=fancy")]
    [InlineData("?colour=blue")]
    public async Task UnknownOptionsAndParametersAreInvalidRequests(string query)
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(EntityPath(Id) + query);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task KeyValuesGivesEachAttributeAsItsValue()
    {
        await using var app = await WithBuildingAsync();

        var entity = await app.RetrieveAsync(Id, "?options=keyValues&attrs=temperature,owner,position");

        JsonEqual("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": 21, "owner": "urn:ngsi-ld:Person:1",
             "position": {"type": "Point", "coordinates": [2.17, 41.38]}}
            """, entity);
    }

    [Fact]
    public async Task ConciseLeavesOutAttributeTypesAndShortensBareValues()
    {
        await using var app = await WithBuildingAsync();

        var entity = await app.RetrieveAsync(Id, "?options=concise&attrs=temperature,humidity,owner,position");

        JsonEqual("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building",
             "temperature": {"value": 21, "unitCode": "CEL"},
             "humidity": 40,
             "owner": {"object": "urn:ngsi-ld:Person:1"},
             "position": {"type": "Point", "coordinates": [2.17, 41.38]}}
            """, entity);
    }

    [Fact]
    public async Task NormalizedIsTheDefault()
    {
        await using var app = await WithBuildingAsync();

        JsonEqual(Building, await app.RetrieveAsync(Id, "?options=normalized"));
        JsonEqual(Building, await app.RetrieveAsync(Id));
    }

    [Theory]
    [InlineData("fr", "Rue principale", "fr")]
    [InlineData("de,fr", "Hauptstraße", "de")]
    [InlineData("fr;q=0.5,de;q=0.9", "Hauptstraße", "de")]
    public async Task LangPicksTheLanguagePropertyStringInTheBestLanguage(string lang, string text, string tag)
    {
        await using var app = await WithBuildingAsync();

        var entity = await app.RetrieveAsync(Id, "?attrs=street&lang=" + Uri.EscapeDataString(lang));

        Assert.Equal(text, (string?)entity["street"]!["value"]);
        Assert.Equal("Property", (string?)entity["street"]!["type"]);
        Assert.Equal(tag, (string?)entity["street"]!["lang"]);
    }

    [Fact]
    public async Task LangWithKeyValuesGivesTheString()
    {
        await using var app = await WithBuildingAsync();

        var entity = await app.RetrieveAsync(Id, "?attrs=street&lang=fr&options=keyValues");

        Assert.Equal("Rue principale", (string?)entity["street"]);
    }

    [Fact]
    public async Task JsonAnswerNamesTheContextInALinkHeader()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntityPath(Id));
        request.Headers.Accept.ParseAdd("application/json");

        using var response = await client.SendAsync(request);
        var entity = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var link = Assert.Single(response.Headers.GetValues("Link"));
        Assert.Contains($"<{CoreContext}>", link);
        Assert.Contains("rel=\"http://www.w3.org/ns/json-ld#context\"", link);
        Assert.False(entity.ContainsKey("@context"));
    }

    [Fact]
    public async Task LdJsonAnswerCarriesTheContextInTheBody()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntityPath(Id));
        request.Headers.Accept.ParseAdd("application/ld+json");

        using var response = await client.SendAsync(request);
        var entity = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("Link"));
        JsonEqual($"\"{CoreContext}\"", entity["@context"]);
        entity.Remove("@context");
        JsonEqual(Building, entity);
    }

    [Theory]
    [InlineData("text/html, application/ld+json;q=0.5", "application/ld+json")]
    [InlineData("*/*", "application/json")]
    [InlineData("application/json;q=0.2, application/ld+json;q=0.9", "application/ld+json")]
    public async Task TheBestAcceptableMediaTypeIsChosen(string accept, string expected)
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntityPath(Id));
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/xml, text/plain")]
    public async Task AnUnacceptableMediaTypeIsAnswered406(string accept)
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntityPath(Id));
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await client.SendAsync(request);

        await ProblemAsync(response, HttpStatusCode.NotAcceptable);
    }

    private static async Task<JsonObject> FeatureAsync(AgoraApplication app, string query)
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntityPath(Id) + query);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/geo+json"));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/geo+json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    [Fact]
    public async Task GeoJsonAnswerIsAFeatureWithTheEntityAsProperties()
    {
        await using var app = await WithBuildingAsync();

        var feature = await FeatureAsync(app, "?geometryProperty=position");

        Assert.Equal("Feature", (string?)feature["type"]);
        Assert.Equal(Id, (string?)feature["id"]);
        JsonEqual("""{"type": "Point", "coordinates": [2.17, 41.38]}""", feature["geometry"]);
        Assert.Equal("Building", (string?)feature["properties"]!["type"]);
        JsonEqual("""{"type": "Property", "value": 40}""", feature["properties"]!["humidity"]);
    }

    [Fact]
    public async Task GeoJsonGeometryIsTheLocationByDefault()
    {
        await using var app = await WithBuildingAsync();

        var feature = await FeatureAsync(app, "");

        JsonEqual("""{"type": "Point", "coordinates": [-3.7, 40.4]}""", feature["geometry"]);
    }

    [Fact]
    public async Task GeoJsonGeometryIsNullWhenTheGeometryPropertyIsMissing()
    {
        await using var app = await WithBuildingAsync();

        var feature = await FeatureAsync(app, "?geometryProperty=nowhere");

        Assert.Null(feature["geometry"]);
        Assert.True(feature.ContainsKey("geometry"));
    }
}
