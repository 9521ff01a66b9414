// Example parameters of the first deployment: edit, then (see infra/README.md)
//   APPROVAL_SIGNING_KEY="$(openssl rand -base64 48)" \
//     az deployment group create -g <rg> --parameters infra/main.bicepparam
// Secrets are never written here: they are read from environment variables at deployment
// time (empty → the secret already in Key Vault is kept) and stored in Key Vault.
using './main.bicep'

param namePrefix = 'diabretrain'
param mlWorkspaceName = 'mlw-diabetes'
param mlWorkspaceResourceGroup = 'rg-diabetes-ml'
param mlDataReaderPrincipalIds = []

param amlCompute = 'cpu-cluster'
param amlEnvironment = 'azureml:diabetes-train-env@latest'
param amlExperiment = 'diabetes-training'
param amlInstanceType = 'Standard_DS3_v2'
param amlInstanceCount = 1
param amlDatastore = 'retraindata'
// endpointName: left to main.bicep's default, diabetes-<unique suffix> (names are unique per region)
param modelName = 'diabetes-classifier'

param trainingSchedulerSchedule = '*/10 * * * * *'
param approvalSweeperSchedule = '0 */5 * * * *'
param trainingQuietPeriodSeconds = 60
param gateMetric = 'auc'
param gateMinValue = '0.75'
param gateMaxDrop = '0.02'

param approvalSigningKey = readEnvironmentVariable('APPROVAL_SIGNING_KEY', '')
param teamsWebhookUrl = readEnvironmentVariable('TEAMS_WEBHOOK_URL', '')
param notifyWebhookUrl = readEnvironmentVariable('NOTIFY_WEBHOOK_URL', '')

param authClientId = ''
param approvers = ''
param dataUploaderPrincipalId = ''
param extraAppSettings = {}
param tags = {
  project: 'diabetes-retraining'
}
