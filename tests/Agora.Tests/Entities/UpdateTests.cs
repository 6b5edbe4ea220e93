using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

public sealed class UpdateTests
{
    private const string Id = "urn:ngsi-ld:Building:1";

    private const string Building = """
        {
          "id": "urn:ngsi-ld:Building:1",
          "type": "Building",
          "temperature": {"type": "Property", "value": 21, "unitCode": "CEL", "accuracy": {"type": "Property", "value": 0.5}},
          "humidity": {"type": "Property", "value": 40},
          "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}
        }
        """;

    private static async Task<AgoraApplication> WithBuildingAsync()
    {
        var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        return app;
    }

    [Fact]
    public async Task ReplaceSwapsEveryAttributeAndKeepsTheType()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PutAsync(EntityPath(Id), Json("""{"pressure": {"type": "Property", "value": 1013}}"""));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual($$$"""{"id": "{{{Id}}}", "type": "Building", "pressure": {"type": "Property", "value": 1013}}""", await app.RetrieveAsync(Id));
    }

    [Fact]
    public async Task ReplaceWithATypeChangesTheTypeAndKeepsCreatedAt()
    {
        await using var app = await WithBuildingAsync();
        var before = await app.RetrieveAsync(Id, "?options=sysAttrs");
        using var client = app.CreateClient();

        using var response = await client.PutAsync(EntityPath(Id), Json($$$"""{"id": "{{{Id}}}", "type": "Shed"}"""));
        var after = await app.RetrieveAsync(Id, "?options=sysAttrs");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("Shed", (string?)after["type"]);
        Assert.Equal((string?)before["createdAt"], (string?)after["createdAt"]);
        Assert.False(after.ContainsKey("temperature"));
    }

    [Fact]
    public async Task ReplaceWithAnotherIdInTheBodyIsRejected()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PutAsync(EntityPath(Id), Json("""{"id": "urn:ngsi-ld:Building:2", "type": "Building"}"""));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        JsonEqual(Building, await app.RetrieveAsync(Id));
    }

    [Fact]
    public async Task MergeChangesValuesAndKeepsWhatItDoesNotName()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(EntityPath(Id), Json("""{"temperature": {"value": 22}, "pressure": 1013}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": 22, "unitCode": "CEL", "accuracy": {"type": "Property", "value": 0.5}}""", entity["temperature"]);
        JsonEqual("""{"type": "Property", "value": 1013}""", entity["pressure"]);
        JsonEqual("""{"type": "Property", "value": 40}""", entity["humidity"]);
    }

    [Fact]
    public async Task MergeAcceptsTheMergePatchMediaType()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(EntityPath(Id), Json("""{"humidity": 41}""", "application/merge-patch+json"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(41, (int)(await app.RetrieveAsync(Id))["humidity"]!["value"]!);
    }

    [Fact]
    public async Task PartialAttributeUpdateAcceptsTheMergePatchMediaType()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrPath(Id, "humidity"), Json("""{"value": 42}""", "application/merge-patch+json"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(42, (int)(await app.RetrieveAsync(Id))["humidity"]!["value"]!);
    }

    [Theory]
    [InlineData("\"urn:ngsi-ld:null\"")]
    [InlineData("""{"value": "urn:ngsi-ld:null"}""")]
    [InlineData("""{"type": "Property", "value": "urn:ngsi-ld:null"}""")]
    public async Task MergeWithNullDeletesTheAttribute(string nullValue)
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(EntityPath(Id), Json($$$"""{"humidity": {{{nullValue}}}}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(entity.ContainsKey("humidity"));
        Assert.True(entity.ContainsKey("temperature"));
    }

    [Fact]
    public async Task MergeWithNullDeletesARelationship()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(EntityPath(Id), Json("""{"owner": {"type": "Relationship", "object": "urn:ngsi-ld:null"}}"""));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False((await app.RetrieveAsync(Id)).ContainsKey("owner"));
    }

    [Fact]
    public async Task MergeWithNullDeletesASubAttribute()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(EntityPath(Id), Json("""{"temperature": {"value": 23, "accuracy": "urn:ngsi-ld:null"}}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": 23, "unitCode": "CEL"}""", entity["temperature"]);
    }

    [Fact]
    public async Task MergeAddsTypesAndReplacesScope()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(EntityPath(Id), Json("""{"type": "Landmark", "scope": "/Madrid"}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""["Building", "Landmark"]""", entity["type"]);
        Assert.Equal("/Madrid", (string?)entity["scope"]);
    }

    [Fact]
    public async Task AppendAddsNewAttributesAndOverwritesExistingOnes()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(AttrsPath(Id), Json("""{"temperature": 30, "pressure": 1013}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": 30}""", entity["temperature"]);
        JsonEqual("""{"type": "Property", "value": 1013}""", entity["pressure"]);
    }

    [Fact]
    public async Task AppendWithNoOverwriteKeepsExistingAttributesAndReportsThem()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(AttrsPath(Id) + "?options=noOverwrite", Json("""{"temperature": 30, "pressure": 1013}"""));
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        JsonEqual("""["pressure"]""", result["updated"]);
        Assert.Equal("temperature", (string?)result["notUpdated"]![0]!["attributeName"]);
        Assert.False(string.IsNullOrEmpty((string?)result["notUpdated"]![0]!["reason"]));
        Assert.Equal(21, (int)entity["temperature"]!["value"]!);
        Assert.Equal(1013, (int)entity["pressure"]!["value"]!);
    }

    [Fact]
    public async Task AppendOfANewDatasetIdAddsAnInstance()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(AttrsPath(Id), Json("""{"humidity": {"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Dataset:b"}}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""[{"type": "Property", "value": 40}, {"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Dataset:b"}]""", entity["humidity"]);
    }

    [Fact]
    public async Task UpdateAttributesReplacesExistingAttributes()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrsPath(Id), Json("""{"temperature": {"type": "Property", "value": 25}, "humidity": 45}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": 25}""", entity["temperature"]);
        JsonEqual("""{"type": "Property", "value": 45}""", entity["humidity"]);
    }

    [Fact]
    public async Task UpdateAttributesAddsAttributesTheEntityLacks()
    {
        // As the ETSI suite expects (011_01_03): existing attributes are replaced, missing ones added.
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrsPath(Id), Json("""{"temperature": 25, "pressure": 1013}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(25, (int)entity["temperature"]!["value"]!);
        Assert.Equal(1013, (int)entity["pressure"]!["value"]!);
    }

    [Fact]
    public async Task UpdateAttributesReportsAScopeTheEntityLacksAsNotUpdated()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrsPath(Id), Json("""{"temperature": 25, "scope": "/Madrid"}"""));
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        JsonEqual("""["temperature"]""", result["updated"]);
        Assert.Equal("scope", (string?)result["notUpdated"]![0]!["attributeName"]);
        Assert.Equal(25, (int)entity["temperature"]!["value"]!);
        Assert.False(entity.ContainsKey("scope"));
    }

    [Fact]
    public async Task UpdateAttributesWithNoAttributeIsRejected()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrsPath(Id), Json("{}"));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task PartialAttributeUpdateChangesOnlyTheMembersGiven()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrPath(Id, "temperature"), Json("""{"value": 25}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": 25, "unitCode": "CEL", "accuracy": {"type": "Property", "value": 0.5}}""", entity["temperature"]);
    }

    [Fact]
    public async Task PartialAttributeUpdateWithoutAValueKeepsTheValue()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrPath(Id, "temperature"), Json("""{"unitCode": "FAH", "accuracy": {"type": "Property", "value": 0.1}}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": 21, "unitCode": "FAH", "accuracy": {"type": "Property", "value": 0.1}}""", entity["temperature"]);
    }

    [Fact]
    public async Task PartialAttributeUpdateOfAnUnknownAttributeIsNotFound()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrPath(Id, "pressure"), Json("""{"value": 1013}"""));

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task ReplaceAttributeSwapsTheWholeAttribute()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PutAsync(AttrPath(Id, "temperature"), Json("""{"type": "Property", "value": 5}"""));
        var entity = await app.RetrieveAsync(Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": 5}""", entity["temperature"]);
    }

    [Fact]
    public async Task ReplaceAttributeCanChangeTheAttributeType()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PutAsync(AttrPath(Id, "owner"), Json("""{"type": "Property", "value": "the city"}"""));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"type": "Property", "value": "the city"}""", (await app.RetrieveAsync(Id))["owner"]);
    }

    [Fact]
    public async Task ReplaceAttributeOfAnUnknownAttributeIsNotFound()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.PutAsync(AttrPath(Id, "pressure"), Json("""{"type": "Property", "value": 1013}"""));

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
        Assert.False((await app.RetrieveAsync(Id)).ContainsKey("pressure"));
    }

    [Fact]
    public async Task DeleteAttributeRemovesIt()
    {
        await using var app = await WithBuildingAsync();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(AttrPath(Id, "humidity"));
        using var again = await client.DeleteAsync(AttrPath(Id, "humidity"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False((await app.RetrieveAsync(Id)).ContainsKey("humidity"));
        await ProblemAsync(again, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    private const string MultiTemperature = """
        {"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": [
          {"type": "Property", "value": 20},
          {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:north"},
          {"type": "Property", "value": 22, "datasetId": "urn:ngsi-ld:Dataset:south"}]}
        """;

    [Fact]
    public async Task DeleteAttributeWithADatasetIdRemovesOnlyThatInstance()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(MultiTemperature);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(AttrPath(Id, "temperature") + "?datasetId=urn:ngsi-ld:Dataset:north");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""
            [{"type": "Property", "value": 20}, {"type": "Property", "value": 22, "datasetId": "urn:ngsi-ld:Dataset:south"}]
            """, (await app.RetrieveAsync(Id))["temperature"]);
    }

    [Fact]
    public async Task DeleteAttributeWithoutADatasetIdRemovesOnlyTheDefaultInstance()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(MultiTemperature);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(AttrPath(Id, "temperature"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(2, (await app.RetrieveAsync(Id))["temperature"]!.AsArray().Count);
    }

    [Fact]
    public async Task DeleteAttributeWithDeleteAllRemovesEveryInstance()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(MultiTemperature);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(AttrPath(Id, "temperature") + "?deleteAll=true");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False((await app.RetrieveAsync(Id)).ContainsKey("temperature"));
    }

    [Fact]
    public async Task DeleteAttributeWithAnUnknownDatasetIdIsNotFound()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(MultiTemperature);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(AttrPath(Id, "temperature") + "?datasetId=urn:ngsi-ld:Dataset:west");

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
        Assert.Equal(3, (await app.RetrieveAsync(Id))["temperature"]!.AsArray().Count);
    }

    [Fact]
    public async Task PartialAttributeUpdateWithADatasetIdChangesOnlyThatInstance()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(MultiTemperature);
        using var client = app.CreateClient();

        using var response = await client.PatchAsync(AttrPath(Id, "temperature"), Json("""{"value": 30, "datasetId": "urn:ngsi-ld:Dataset:south"}"""));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""
            [{"type": "Property", "value": 20},
             {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:north"},
             {"type": "Property", "value": 30, "datasetId": "urn:ngsi-ld:Dataset:south"}]
            """, (await app.RetrieveAsync(Id))["temperature"]);
    }
}
