// Storage Blob Data Reader for the app's identity on the Azure ML workspace's storage account: the
// data collector of the online deployments writes the captured inputs there
// (modelDataCollector/<endpoint>/<deployment>/...), which the drift checks read.
param storageAccountName string
param principalId string
param functionAppId string

var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource workspaceStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspaceStorage.id, functionAppId, storageBlobDataReader)
  scope: workspaceStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output blobEndpoint string = workspaceStorage.properties.primaryEndpoints.blob
