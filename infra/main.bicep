// Event-driven retraining for Azure ML: the Function App (Flex Consumption, Python 3.11,
// system-assigned identity), its storage (containers, the step queue), monitoring, Key Vault,
// the Event Grid system topics and every role assignment.
//
// Two deployments (see infra/README.md):
//   1. this template: everything except the Event Grid subscriptions;
//   2. publish the code, wake the host until it has created its blobs_extension key, then
//      events.bicep: the subscriptions, whose endpoints (the blob trigger's webhook, the Event
//      Grid functions) exist only once the functions are indexed and the host has run.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------- parameters
@description('Region of every resource created here (Flex Consumption must be available there).')
param location string = resourceGroup().location

@description('Short lowercase prefix of resource names (3-11 letters/digits).')
@minLength(3)
@maxLength(11)
param namePrefix string

@description('Function App name (globally unique host name).')
param functionAppName string = '${namePrefix}-func-${uniqueString(resourceGroup().id)}'

@description('Flex Consumption: largest number of instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption: memory of one instance (MB).')
@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 2048

@description('Name of the existing Azure ML workspace.')
param mlWorkspaceName string

@description('Resource group of the Azure ML workspace (same subscription).')
param mlWorkspaceResourceGroup string = resourceGroup().name

@description('Resource group of the workspace blob store\'s storage account (the data collector\'s output; same subscription), when it is not the workspace\'s.')
param mlWorkspaceStorageResourceGroup string = mlWorkspaceResourceGroup

@description('Principal IDs that read the data container from Azure ML jobs (the compute cluster\'s managed identity, the workspace\'s identity): Storage Blob Data Reader on the storage account.')
param mlDataReaderPrincipalIds array = []

@description('Name of the Event Grid system topic of the ML workspace (a resource has at most one system topic: reuse the existing one\'s name if the workspace already has one).')
param mlSystemTopicName string = '${mlWorkspaceName}-events'

@description('Compute cluster of the training job.')
param amlCompute string = 'cpu-cluster'

@description('Registered environment of the training job.')
param amlEnvironment string = 'azureml:diabetes-train-env@latest'

@description('Experiment of the training jobs; the job-status subscription (events.bicep) delivers only this experiment\'s runs.')
param amlExperiment string = 'diabetes-training'

@description('VM size of the online deployments.')
param amlInstanceType string = 'Standard_DS3_v2'

@description('Instance count of each online deployment.')
@minValue(1)
param amlInstanceCount int = 1

@description('Azure ML datastore registered over the data container (identity-based, see docs/deploy-azure.md); a data file <name> is read as azureml://datastores/<amlDatastore>/paths/<name>.')
param amlDatastore string = 'retraindata'

@description('Online endpoint holding the production and staging deployments (3-32 letters, digits, dashes, a letter first; unique within the region, hence the suffix).')
@minLength(3)
@maxLength(32)
param endpointName string = 'diabetes-${uniqueString(resourceGroup().id)}'

@description('Registered model this service trains and acts on.')
param modelName string = 'diabetes-classifier'

@description('Blob container data engineers drop CSV files into.')
param dataContainer string = 'data'

@description('Container of quarantined (rejected) files.')
param quarantineContainer string = 'quarantine'

@description('Container of the service\'s state documents.')
param stateContainer string = 'retrain-state'

@description('Container of the decision audit log (one append blob), under a time-based retention policy: nothing else belongs there.')
param auditContainer string = 'audit'

@description('Days each audit entry stays immutable after it is written (6 months: the EU AI Act\'s floor for high-risk systems\' logs, Art. 19(1) and 26(6)).')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int = 183

@description('true once the audit container\'s retention policy is locked (infra/README.md, "The audit container"): a locked policy accepts only an extension, so this template then leaves it alone.')
param auditRetentionLocked bool = false

@description('gradient_boosting | logistic_regression | random_forest')
@allowed([ 'gradient_boosting', 'logistic_regression', 'random_forest' ])
param trainingAlgorithm string = 'gradient_boosting'

@description('Files landing within this many seconds of each other lead to one training job.')
param trainingQuietPeriodSeconds int = 60

@description('NCRONTAB (6 fields) of the training_scheduler timer.')
param trainingSchedulerSchedule string = '*/10 * * * * *'

@description('NCRONTAB (6 fields) of the approval_sweeper timer.')
param approvalSweeperSchedule string = '0 */5 * * * *'

@description('What asks for a training job: any of new_data, drift, performance, schedule (comma-separated).')
param retrainTriggers string = 'new_data,drift,performance'

@description('NCRONTAB of the scheduled_retrain timer (acts only when retrainTriggers includes schedule).')
param retrainSchedule string = '0 0 3 * * 0'

@description('NCRONTAB of the drift_check timer.')
param driftCheckSchedule string = '0 0 * * * *'

@description('Container of the drift reports.')
param reportsContainer string = 'reports'

@description('Storage queue of the pipeline steps (created here; the host creates <name>-poison).')
param stepQueueName string = 'candidate-steps'

@description('Quality gate: metric (auc | accuracy | f1 | precision | recall).')
@allowed([ 'auc', 'accuracy', 'f1', 'precision', 'recall' ])
param gateMetric string = 'auc'

@description('Quality gate: minimum value of the metric (string, 0-1).')
param gateMinValue string = '0.75'

@description('Quality gate: largest allowed drop below the champion (string, 0-1).')
param gateMaxDrop string = '0.02'

@description('Approval requests expire after this many hours.')
param approvalTtlHours int = 72

@description('0-50: share of live traffic mirrored to the staging deployment while it awaits approval.')
@minValue(0)
@maxValue(50)
param promotionMirrorPercent int = 0

@description('HMAC key of the signed approval links (>= 16 characters). Written to Key Vault when given; leave empty on later deployments to keep the stored one.')
@secure()
param approvalSigningKey string = ''

@description('Optional Teams Workflows webhook URL (contains a signature: stored in Key Vault).')
@secure()
param teamsWebhookUrl string = ''

@description('Optional generic JSON notification webhook URL (stored in Key Vault).')
@secure()
param notifyWebhookUrl string = ''

@description('Optional Entra ID application (client) ID: turns on App Service authentication (sign-in required but for the machine routes) and AUTH_MODE=app-service: deciders are the signed-in principals (X-MS-CLIENT-PRINCIPAL); approvers must then name them.')
param authClientId string = ''

@description('With authClientId: who may approve or reject (APPROVERS): comma-separated principal names (UPNs), Entra object ids or group ids.')
param approvers string = ''

@description('Optional principal (user or group object ID) allowed to upload data files (Storage Blob Data Contributor on the storage account).')
param dataUploaderPrincipalId string = ''

@description('Extra or overriding app settings (name → string value), e.g. {"SMOKE_MAX_LATENCY_MS": "3000"}.')
param extraAppSettings object = {}

@description('Tags put on every resource.')
param tags object = {}

// ---------------------------------------------------------------- names and role IDs
var suffix = uniqueString(resourceGroup().id)
var storageAccountName = take('${namePrefix}st${suffix}', 24)
var keyVaultName = take('${namePrefix}-kv-${suffix}', 24)
var deploymentContainer = 'app-package'
var deadLetterContainerName = 'event-deadletter' // events Event Grid could not deliver (all subscriptions)
var signingKeySecretName = 'approval-signing-key'
var teamsSecretName = 'teams-webhook-url'
var notifySecretName = 'notify-webhook-url'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------- storage (host, data, state)
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identity only: no account keys or connection strings anywhere
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for name in [ deploymentContainer, dataContainer, quarantineContainer, stateContainer, reportsContainer ]: {
  parent: blobService
  name: name
  properties: { publicAccess: 'None' }
}]

// The audit log's own container: a container-level time-based retention (WORM) policy, so no blob
// in it can be overwritten or deleted for auditRetentionDays after it was written; protected append
// writes let the app keep appending blocks to the log's append blob. The policy starts unlocked
// (it can still be shortened or removed); lock it once validated (infra/README.md). A locked
// policy refuses every PUT (only Extend Immutability Policy may change it), so once it is locked
// auditRetentionLocked = true keeps later deployments from writing it.
// learn.microsoft.com/azure/storage/blobs/immutable-time-based-retention-policy-overview
resource auditContainerResource 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: auditContainer
  properties: { publicAccess: 'None' }
}

resource auditRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (!auditRetentionLocked) {
  parent: auditContainerResource
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: auditRetentionDays
    allowProtectedAppendWrites: true
  }
}

// Dead letters of every Event Grid subscription (Event Grid writes <SUBSCRIPTION>/<y>/<m>/<d>/<h>/<id>.json).
resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: { publicAccess: 'None' }
}

// The step queue (STEP_QUEUE_NAME): the queue trigger run_step reads it with the app's identity.
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource stepQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: stepQueueName
}

// ---------------------------------------------------------------- monitoring
resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-appi-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true // telemetry is sent with the app's identity (Monitoring Metrics Publisher)
  }
}

// ---------------------------------------------------------------- Function App (Flex Consumption)
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${namePrefix}-plan-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
  // with auditRetentionLocked the policy is not deployed and ARM drops this dependency on it
  dependsOn: [ containers, auditRetention ]
}

// ---------------------------------------------------------------- Key Vault (secrets of the app)
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource signingKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(approvalSigningKey)) {
  parent: vault
  name: signingKeySecretName
  properties: { value: approvalSigningKey }
}

resource teamsSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(teamsWebhookUrl)) {
  parent: vault
  name: teamsSecretName
  properties: { value: teamsWebhookUrl }
}

resource notifySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(notifyWebhookUrl)) {
  parent: vault
  name: notifySecretName
  properties: { value: notifyWebhookUrl }
}

// Versionless references: the app follows the latest secret version (refreshed within 24 h, or on restart).
var kvRef = {
  signingKey: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${signingKeySecretName}/)'
  teams: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${teamsSecretName}/)'
  notify: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${notifySecretName}/)'
}

// ---------------------------------------------------------------- app settings
// A separate resource so that settings can use the site's own host name. This is the full
// set: settings added by hand in the portal are replaced on the next deployment (use
// extraAppSettings). FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION are not app
// settings on Flex Consumption: the runtime is functionAppConfig.runtime above.
var appSettings = {
  // Host storage with the system-assigned identity (no connection string). The host and the
  // blob trigger (connection "AzureWebJobsStorage") read these; the app's own storage code
  // uses https://<AzureWebJobsStorage__accountName>.blob.core.windows.net with its identity
  // (AzureWebJobsStorage itself stays unset: the host would parse any value there as a
  // connection string).
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'

  ML_BACKEND: 'azure'
  AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
  AZURE_RESOURCE_GROUP: mlWorkspaceResourceGroup
  AZUREML_WORKSPACE: mlWorkspaceName
  AZUREML_COMPUTE: amlCompute
  AZUREML_ENVIRONMENT: amlEnvironment
  AZUREML_EXPERIMENT: amlExperiment
  AZUREML_INSTANCE_TYPE: amlInstanceType
  AZUREML_INSTANCE_COUNT: string(amlInstanceCount)
  AZUREML_DATASTORE: amlDatastore

  MODEL_NAME: modelName
  DATA_CONTAINER: dataContainer
  QUARANTINE_CONTAINER: quarantineContainer
  STATE_CONTAINER: stateContainer
  AUDIT_CONTAINER: auditContainer
  AUDIT_RETENTION_DAYS: string(auditRetentionDays)
  TRAINING_ALGORITHM: trainingAlgorithm
  TRAINING_QUIET_PERIOD_SECONDS: string(trainingQuietPeriodSeconds)
  TRAINING_SCHEDULER_SCHEDULE: trainingSchedulerSchedule
  MAX_DATA_FILE_BYTES: '2147483648'
  MIN_DATA_ROWS: '100'
  MAX_NULL_SHARE: '0.05'
  WEBHOOK_MAX_AGE_SECONDS: '300'
  NOTIFY_WEBHOOK_URL: empty(notifyWebhookUrl) ? '' : kvRef.notify
  TEAMS_WEBHOOK_URL: empty(teamsWebhookUrl) ? '' : kvRef.teams
  PUBLIC_BASE_URL: 'https://${functionApp.properties.defaultHostName}'
  ENDPOINT_NAME: endpointName
  GATE_METRIC: gateMetric
  GATE_MIN_VALUE: gateMinValue
  GATE_MAX_DROP: gateMaxDrop
  SMOKE_MAX_LATENCY_MS: '2000'
  APPROVAL_TTL_HOURS: string(approvalTtlHours)
  APPROVAL_REMINDER_HOURS: '12'
  APPROVAL_SIGNING_KEY: kvRef.signingKey
  AUTH_MODE: empty(authClientId) ? 'none' : 'app-service'
  APPROVERS: approvers
  APPROVAL_SWEEPER_SCHEDULE: approvalSweeperSchedule
  PROMOTION_MIRROR_PERCENT: string(promotionMirrorPercent)
  STEP_QUEUE_NAME: stepQueueName
  STEP_POLL_SECONDS: '30'
  STEP_MAX_DEQUEUE_COUNT: '5'
  DEPLOYMENT_TIMEOUT_SECONDS: '1800'
  PROMOTION_BAKE_MINUTES: '60'
  PRODUCTION_AUTO_ROLLBACK: 'true'

  RETRAIN_TRIGGERS: retrainTriggers
  RETRAIN_COOLDOWN_HOURS: '6'
  RETRAIN_DAILY_CAP: '3'
  RETRAIN_SCHEDULE: retrainSchedule
  PERFORMANCE_DROP_THRESHOLD: '0.05'
  DRIFT_CHECK_SCHEDULE: driftCheckSchedule
  REGISTRY_RECONCILE_SCHEDULE: '0 */5 * * * *'
  DRIFT_MIN_WINDOW_ROWS: '1000'
  REPORTS_CONTAINER: reportsContainer
  // The data collector's output (the workspace blob store), read with Storage Blob Data Reader.
  DATA_COLLECTOR_ACCOUNT_URL: ml.outputs.dataCollectorAccountUrl
  DATA_COLLECTOR_CONTAINER: ml.outputs.dataCollectorContainer
}

resource functionAppSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, extraAppSettings)
  dependsOn: [ signingKeySecret, teamsSecret, notifySecret, vaultSecretsUser, stepQueue ]
}

// Optional App Service authentication (with authClientId; AUTH_MODE=app-service above): every
// request must be signed in (Entra ID; a browser is sent to the login page, an API caller with a
// bearer token of the app's audience passes), and the app believes X-MS-CLIENT-PRINCIPAL, which
// only App Service authentication can set. Machine callers keep their own credentials and are
// excluded: the host's webhooks (Event Grid, blob trigger; system keys), the MLflow webhook (HMAC)
// and the training set the retrain workflow reads (function key).
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(authClientId)) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/runtime/webhooks/eventgrid'
        '/runtime/webhooks/blobs'
        '/api/mlflow/webhook'
        '/api/training-sets/current'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [ 'api://${authClientId}' ]
        }
      }
    }
    login: {
      tokenStore: { enabled: true }
    }
  }
}

// ---------------------------------------------------------------- role assignments (app identity)
resource storageBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, functionApp.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionApp.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource uploaderBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(dataUploaderPrincipalId)) {
  name: guid(storage.id, dataUploaderPrincipalId, roles.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: dataUploaderPrincipalId
  }
}

resource mlDataReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in mlDataReaderPrincipalIds: {
  name: guid(storage.id, principalId, roles.storageBlobDataReader)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

// ---------------------------------------------------------------- Event Grid: system topics, dead letters
// The subscriptions are events.bicep (second deployment). Each topic has a system-assigned
// identity, with which Event Grid writes dead letters (deadLetterWithResourceIdentity).
resource storageTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: '${storage.name}-events'
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource storageTopicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, storageTopic.id, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: storageTopic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- Azure ML workspace: roles + system topic
module ml 'modules/ml-workspace.bicep' = {
  name: 'ml-workspace-access'
  scope: resourceGroup(mlWorkspaceResourceGroup)
  params: {
    workspaceName: mlWorkspaceName
    systemTopicName: mlSystemTopicName
    workspaceStorageResourceGroup: mlWorkspaceStorageResourceGroup
    functionAppId: functionApp.id
    principalId: functionApp.identity.principalId
    tags: tags
  }
}

resource mlTopicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, mlWorkspaceResourceGroup, mlSystemTopicName, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: ml.outputs.systemTopicPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- outputs
output functionAppName string = functionApp.name
output functionAppHostName string = functionApp.properties.defaultHostName
output publicBaseUrl string = 'https://${functionApp.properties.defaultHostName}'
output functionAppPrincipalId string = functionApp.identity.principalId
output storageAccountName string = storage.name
output dataContainer string = dataContainer
output keyVaultName string = vault.name
output approvalSigningKeySecretName string = signingKeySecretName
output applicationInsightsName string = appInsights.name
output mlSystemTopicName string = ml.outputs.systemTopicName
output mlWorkspaceResourceGroup string = mlWorkspaceResourceGroup
output mlWorkspaceStorageAccountName string = ml.outputs.workspaceStorageAccountName
output storageTopicName string = storageTopic.name
output deadLetterContainer string = deadLetterContainer.name
output stepQueueName string = stepQueue.name
output endpointName string = endpointName
output modelName string = modelName
output experimentName string = amlExperiment
