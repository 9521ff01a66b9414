// In the Azure ML workspace's resource group: the app's roles (on the workspace, and read access to
// the workspace's storage, where the data collector writes the deployments' inputs) and the
// workspace's Event Grid system topic. Its subscriptions are modules/ml-events.bicep (events.bicep).
param workspaceName string
param systemTopicName string
param functionAppId string
param principalId string
param tags object = {}

@description('Resource group of the workspace blob store\'s storage account (same subscription); the workspace\'s own by default.')
param workspaceStorageResourceGroup string = resourceGroup().name

var azureMLDataScientist = 'f6c7c914-8db3-469d-8ca1-694a8f32e121'

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = {
  name: workspaceName
}

// Submit jobs, read models and runs, register data assets, create/update/delete online
// deployments and set endpoint traffic (everything but computes and the workspace itself).
resource dataScientist 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, functionAppId, azureMLDataScientist)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', azureMLDataScientist)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The workspace's default blob datastore, where the data collector writes the deployments' inputs
// (modelDataCollector/<endpoint>/<deployment>/<collection>/...). Its properties are an
// AzureBlobDatastore (accountName, containerName), a variant of a discriminated type: any() reads them.
resource workspaceBlobStore 'Microsoft.MachineLearningServices/workspaces/datastores@2024-04-01' existing = {
  parent: workspace
  name: 'workspaceblobstore'
}

var blobStore = any(workspaceBlobStore.properties)

// A module takes the account's name as a parameter (an existing resource's name must be known when
// its deployment starts). The datastore names the account but not its resource group: that is
// workspaceStorageResourceGroup (an account brought to the workspace may live in another group).
module workspaceStorageReader 'workspace-storage-reader.bicep' = {
  name: 'workspace-storage-reader'
  scope: resourceGroup(workspaceStorageResourceGroup)
  params: {
    storageAccountName: blobStore.accountName
    principalId: principalId
    functionAppId: functionAppId
  }
}

resource mlTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  location: workspace.location
  tags: tags
  identity: {
    type: 'SystemAssigned' // writes dead letters to the app's storage (role assigned in main.bicep)
  }
  properties: {
    source: workspace.id
    topicType: 'Microsoft.MachineLearningServices.Workspaces'
  }
}

output systemTopicName string = mlTopic.name
output systemTopicPrincipalId string = mlTopic.identity.principalId
output workspaceStorageAccountName string = blobStore.accountName
output dataCollectorAccountUrl string = workspaceStorageReader.outputs.blobEndpoint
output dataCollectorContainer string = blobStore.containerName
