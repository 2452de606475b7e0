#!/usr/bin/env node
// The CDK app: `npx cdk synth` / `npx cdk deploy -c stage=prod -c account=… -c alarmEmail=…`.
import { App } from 'aws-cdk-lib';
import { buildApp } from '@lib/app';

buildApp(new App());
